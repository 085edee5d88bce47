"""What fewer seeds would have said: the committed tables' claims re-read on their first 5, 6 and all seeds.

Run with ``.venv/bin/python benchmarks/seed_budget.py [--tables DIR]`` on tables from a 10-seed run (the
committed ones before issue 29, or ``make reproduce SEEDS=10``). For each claim the notebooks print (04: the best
deep model against every other model on K1's whole file and on K2's second half; 02: the selected Mixtiles
variant against DeepAnT), it prints the mean ± half-width of the 95 % t-interval and the Wilcoxon p over the
first n seeds. Seeds are also data draws on KDD, so the first n seeds are exactly what a run with n seeds fits.
The smallest two-sided exact Wilcoxon p over n pairs is 2 / 2**n: 0.0625 for 5, 0.031 for 6, 0.002 for 10.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from anomalylab import reporting

# table: (metric, the keys of its claims, the model every other one is compared with, the models compared)
CLAIMS = {
    "04_kdd_k1": ("roc_auc", {"protocol": "K1_whole_file", "threshold_rule": "val_q95"}, "goad", None),
    "04_kdd_k2": ("f1", {"protocol": "K2_second_half", "threshold_rule": "val_q99", "kind": "ours"}, "neutral_ad",
                  None),  # fmt: skip
    "02_mixtiles": ("f2", {"threshold_rule": "trainval_best_f2"}, "deepant_selected", ["deepant"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=Path, default=Path("figures/tables"))
    parser.add_argument("--budgets", type=int, nargs="*", default=[5, 6])
    args = parser.parse_args()
    for name, (metric, keys, best, others) in CLAIMS.items():
        table = pd.read_csv(args.tables / f"{name}.csv", low_memory=False)
        rows = table[(table["metric"] == metric) & table["seed"].notna()]
        for column, value in keys.items():
            rows = rows[rows[column] == value]
        if rows.empty:
            print(f"{name}: no rows for {metric} at {keys}; skipped")
            continue
        seeds = sorted(rows["seed"].unique())
        others = others or sorted(m for m in rows["model"].unique() if m != best)
        out = []
        for budget in [*args.budgets, len(seeds)]:
            part = rows[rows["seed"].isin(seeds[:budget])]
            for other in others:
                test = reporting.wilcoxon_test(part, metric, (best, {"model": best}), (other, {"model": other}))
                a = part[part["model"] == best].groupby("seed")["value"].mean()
                half = reporting.t_half_width(a.std(), a.count())
                out.append({"seeds": budget, "other": other, "pairs": test["pairs"],
                            best: f"{a.mean():.4f} ± {half:.4f} ({a.count()} seeds)",
                            "p": round(test["p_value"], 4)})  # fmt: skip
        view = pd.DataFrame(out).pivot_table(index="other", columns="seeds", values="p", aggfunc="first")
        print(f"\n{name}: {metric} at {keys}; Wilcoxon p of {best} against each model, by number of seeds")
        print(view.to_markdown())
        print(pd.DataFrame(out).drop_duplicates(["seeds"])[["seeds", best]].to_markdown(index=False))


if __name__ == "__main__":
    main()
