"""Command line: ``python -m scorefast demo`` and ``python -m scorefast bench``."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m scorefast",
                                     description="scorefast command line")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train a softmax policy with REINFORCE")
    demo.add_argument("--steps", type=int, default=300, help="training steps")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--quiet", action="store_true", help="print only the result")
    demo.add_argument("--plot", metavar="PATH", default=None,
                      help="also write a PNG of estimator variance against mu - c "
                           "(needs matplotlib)")
    bench = sub.add_parser("bench", help="time the workloads against their peers")
    bench.add_argument("--workload", default=None, help="e.g. C1 (default: all)")
    bench.add_argument("--size", default=None, help="e.g. medium (default: all)")
    bench.add_argument("--threads", type=int, default=None, help="kernel threads")
    bench.add_argument("--repeat", type=int, default=None, help="timed calls per peer")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from scorefast.demo import run_demo
        from scorefast.demo import variance_table
        result = run_demo(steps=args.steps, seed=args.seed, verbose=not args.quiet)
        variance_table(seed=args.seed, verbose=not args.quiet)
        if args.plot:
            from scorefast.plots import write_variance_plot
            if write_variance_plot(args.plot, seed=args.seed, verbose=not args.quiet):
                return 2
        return 0 if result["accuracy"] >= 0.95 else 1
    from scorefast._bench import run_bench
    run_bench(workload=args.workload, size=args.size, threads=args.threads,
              repeat=args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
