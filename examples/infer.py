"""Inference with graphopt.explain: what graphopt does with a transformer block,
what the cost model predicts on a GPU, and what it measures on this machine.

    .venv/bin/python examples/infer.py [--target a100-sxm-80gb] [--report infer-report.html]
"""
import argparse

import torch

import graphopt
from train import Block  # the block examples/train.py trains


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="h100-sxm", help="a target of `graphopt targets`")
    parser.add_argument("--report", help="also write the HTML report here")
    args = parser.parse_args()

    torch.manual_seed(0)
    model = Block().eval()
    report = graphopt.explain(model, torch.randn(8, 64, 128), target=args.target, measure=True)
    print(report)
    if args.report:
        print(f"\nwrote {report.save_html(args.report)}")


if __name__ == "__main__":
    main()
