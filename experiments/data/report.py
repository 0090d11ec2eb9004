"""bmru report: PNG figures of a fidelity run file (matplotlib, h5py; Debian packages).

usage: report.py RUN.h5 OUTDIR SEQUENCE
Writes, for the chosen sequence, sequence<S>_cells.png (candidate and state of every cell, hardware
against software, with the thresholds), sequence<S>_logits.png, and agreement.png (state agreement
and candidate NRMSE per cell). Every figure is 1200 x 800 pixels.
"""
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

SIZE, DPI = (12, 8), 100


def cells(f, s, out):
    unit = f["config"].attrs["unit_current"]
    layers = int(f["model"].attrs["n_layers"])
    d = int(f["model"].attrs["d"])
    fig, axes = plt.subplots(2 * layers, d, figsize=SIZE, dpi=DPI, sharex=True, squeeze=False)
    for l in range(1, layers + 1):
        beta_lo = np.abs(f[f"model/layer{l}/beta1"][...])
        beta_hi = beta_lo + np.abs(f[f"model/layer{l}/delta"][...])
        alpha = np.abs(f[f"model/layer{l}/alphas"][...])
        c_sw, c_hw = f[f"sw/layer{l}/candidate"][s], f[f"hw/layer{l}/candidate"][s] / unit
        h_sw, h_hw = f[f"sw/layer{l}/state"][s], f[f"hw/layer{l}/state"][s] / unit
        for i in range(d):
            ax = axes[2 * (l - 1)][i]
            ax.plot(c_sw[:, i], label="sw", lw=1)
            ax.plot(c_hw[:, i], label="hw", lw=1, ls="--")
            ax.axhline(beta_lo[i], color="grey", lw=0.5)
            ax.axhline(beta_hi[i], color="grey", lw=0.5)
            ax.set_title(f"layer {l} cell {i}: candidate", fontsize=8)
            ax = axes[2 * (l - 1) + 1][i]
            ax.step(range(len(h_sw)), h_sw[:, i] / alpha[i], where="mid", label="sw", lw=1)
            ax.step(range(len(h_hw)), h_hw[:, i] / alpha[i], where="mid", label="hw", lw=1, ls="--")
            ax.set_ylim(-0.1, 1.2)
            ax.set_title(f"layer {l} cell {i}: state / alpha", fontsize=8)
    axes[0][0].legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("frame")
    fig.tight_layout()
    fig.savefig(os.path.join(out, f"sequence{s}_cells.png"), dpi=DPI)
    plt.close(fig)


def logits(f, s, out):
    unit = f["config"].attrs["unit_current"]
    y_sw, y_hw = f["sw/logits"][s], f["hw/logits"][s] / unit
    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI)
    for j in range(y_sw.shape[1]):
        ax.plot(y_sw[:, j], label=f"sw class {j}")
        ax.plot(y_hw[:, j], ls="--", label=f"hw class {j}")
    ax.set_xlabel("frame")
    ax.set_ylabel("logit (model units)")
    ax.set_title(f"sequence {s}: decision sw {f['sw/decision'][s]}, hw {f['hw/decision'][s]}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out, f"sequence{s}_logits.png"), dpi=DPI)
    plt.close(fig)


def agreement(f, out):
    agree = f["metrics/cell_state_agreement"][...]
    nrmse = f["metrics/cell_candidate_nrmse"][...]
    labels = [f"L{l + 1}C{i}" for l in range(agree.shape[0]) for i in range(agree.shape[1])]
    fig, (a, b) = plt.subplots(2, 1, figsize=SIZE, dpi=DPI)
    a.bar(labels, 100 * agree.ravel())
    a.set_ylabel("state agreement (%)")
    a.set_ylim(max(0, 100 * agree.min() - 5), 100.5)
    b.bar(labels, nrmse.ravel())
    b.set_ylabel("candidate NRMSE")
    fig.suptitle(f"state agreement {100 * f['metrics'].attrs['state_agreement']:.3f} %, "
                 f"decision agreement {100 * f['metrics'].attrs['decision_agreement']:.1f} %")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "agreement.png"), dpi=DPI)
    plt.close(fig)


def main(path, out, sequence):
    os.makedirs(out, exist_ok=True)
    with h5py.File(path, "r") as f:
        if "hw" not in f or "metrics" not in f:
            sys.exit(f"{path}: not a fidelity run file (no /hw or /metrics)")
        if not 0 <= sequence < f["inputs"].shape[0]:
            sys.exit(f"{path}: sequence {sequence} does not exist (the file has {f['inputs'].shape[0]})")
        cells(f, sequence, out)
        logits(f, sequence, out)
        agreement(f, out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
