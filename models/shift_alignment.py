"""Multi-reference alignment: noisy cyclic shifts of an unknown 1-D signal, the shift latent."""

import numpy as np
import pymc as pm

INFO = {
    "title": "Shift alignment: the cryo-EM latent-pose problem in one dimension",
    "story": (
        "A signal of 12 values is observed 40 times, each time cyclically shifted by an unknown amount and "
        "buried in noise, as a cryo-EM particle is imaged in an unknown pose. The shift s_i of each "
        "observation is the latent variable (z: s_i in 0..11), y_i[t] = signal[(t - s_i) mod 12] + noise. "
        "EM's E-step soft-aligns: it weighs each of the 12 shifts of y_i by the PyMC model's own density; "
        "the M-step averages the observations shifted back by every candidate shift, weighted by those "
        "responsibilities (a closed form, tested against the numerical M-step). The posterior is "
        "symmetric under a global shift: rolling the signal and every s_i together leaves the likelihood "
        "unchanged, so without care it has 12 identical modes, NUTS chains settle in different ones (R-hat "
        "far above 1) and the posterior mean is the circular average of the 12 copies - a flat line at the "
        "signal's average (0.17 here, at every position), a smear that is no estimate of anything. "
        "The model fixes the symmetry instead of hiding it: observation 0 is "
        "the reference frame (s_0 = 0, a one-hot prior), so the signal is estimated as seen in "
        "observation 0, and every column of the table (map, em, mean) is an estimate of that aligned "
        "signal. Compare the signal with the truth only up to a cyclic shift. The pin lowers the 11 other "
        "alignments but does not remove them: they remain local modes about 14 log-density units below the "
        "main one (find_MAP's jittered starts find them, and the table says its starts disagree), separated "
        "by barriers no sampler crosses. From the default random starts (around signal = 0) the NUTS "
        "chains settle in different alignments: R-hat 2.4, and a mean that averages alignments (measured "
        "at default settings). So the chains start where EM starts, at observation 0 (SAMPLER: initvals; "
        "PyMC's default jitter is kept), and explore the main mode, which holds all but about e^-14 of the "
        "posterior mass: R-hat 1.00, no divergences."
    ),
    "why_skewed": (
        "The per-value posteriors of the aligned signal are nearly symmetric; the skew is in the noise sd, "
        "and the lesson is the mode-vs-mean one in its sharpest form: under the unbroken symmetry the mode "
        "is a crisp signal while the mean is a smear, because averaging over the 12 equally good alignments "
        "destroys the very feature being estimated. Breaking the symmetry (or aligning draws before "
        "averaging) makes the mean meaningful again; reporting the raw symmetric mean would not be."
    ),
    "references": [
        "Bandeira, A. S., Boumal, N., Singer, A. (2017). Optimal rates of estimation for multi-reference "
        "alignment. Mathematical Statistics and Learning 2(1), 25-75.",
        "Abbe, E., Pereira, J. M., Singer, A. (2018). Estimation in the group action channel. IEEE ISIT, 561-565.",
        "Scheres, S. H. W. (2012). RELION: implementation of a Bayesian approach to cryo-EM structure "
        "determination. J. Struct. Biol. 180(3), 519-530.",
        "Jasra, A., Holmes, C. C., Stephens, D. A. (2005). Markov chain Monte Carlo methods and the label "
        "switching problem in Bayesian mixture modeling. Statistical Science 20(1), 50-67.",
    ],
}
LATENT = ("z",)

TRUE_SIGNAL = np.array([0.0, 0.8, 2.0, 1.2, 0.3, -0.6, -1.4, -0.8, 0.2, 0.9, -0.2, -0.4])
TRUE_SIGMA = 0.6
N_OBS = 40
SEED = 3
SIGNAL_SCALE = 2.0  # signal_t ~ N(0, SIGNAL_SCALE)
SIGMA_SCALE = 1.0  # sigma ~ HalfNormal(SIGMA_SCALE)


def load_data():
    """A seeded simulation: ``y`` (40, 12), observation 0 unshifted; ``shift`` (40,), the true shifts."""
    rng = np.random.default_rng(SEED)
    T = len(TRUE_SIGNAL)
    shift = np.concatenate([[0], rng.integers(0, T, N_OBS - 1)])
    y = np.stack([np.roll(TRUE_SIGNAL, s) for s in shift]) + rng.normal(0, TRUE_SIGMA, (N_OBS, T))
    return {"y": y, "shift": shift}


def shift_prior(n: int, T: int) -> np.ndarray:
    """P(s_i = k), shape (n, T): uniform, except observation 0 fixed at shift 0 (the reference frame)."""
    p = np.full((n, T), 1.0 / T)
    p[0] = np.eye(T)[0]
    return p


def build(data):
    """signal_t ~ N(0, 2), sigma ~ HalfNormal(1); z_i ~ Categorical(shift_prior);
    y_i[t] ~ N(signal[(t - z_i) % T], sigma)."""
    y = data["y"]
    n, T = y.shape
    with pm.Model() as model:
        signal = pm.Normal("signal", 0.0, SIGNAL_SCALE, shape=T)
        sigma = pm.HalfNormal("sigma", SIGMA_SCALE)
        z = pm.Categorical("z", p=shift_prior(n, T), shape=n)
        index = (np.arange(T)[None, :] - z[:, None]) % T
        pm.Normal("y", mu=signal[index], sigma=sigma, observed=y)
    return model


# NUTS starts at observation 0, the reference frame (see the story): the other alignments are
# local modes a sampler from a random start can fall into and never leave
SAMPLER = {"initvals": {"signal": load_data()["y"][0]}}


def em_starts(data, n_init, rng):
    """First: observation 0 itself (the reference frame) and the sd of the data; then noisy copies of it."""
    y = data["y"]
    starts = [{"signal": y[0].copy(), "sigma": np.array(np.std(y))}]
    for _ in range(n_init - 1):
        starts.append(
            {
                "signal": y[0] + rng.normal(0, np.std(y) / 2, y.shape[1]),
                "sigma": np.array(np.std(y) * rng.uniform(0.5, 1.5)),
            }
        )
    return starts


def m_step(data, expectations, prior):
    """Average the back-shifted observations, weighted by the responsibilities (closed form).

    ``b[t] = sum_i sum_s r_is y_i[(t + s) % T]`` is the soft-aligned sum. Without the prior:
    ``signal = b / n`` and ``sigma^2`` the mean expected squared residual. With the priors
    signal_t ~ N(0, SIGNAL_SCALE), sigma ~ HalfNormal(SIGMA_SCALE): ``signal = b / (n + sigma^2 /
    SIGNAL_SCALE^2)`` and ``sigma^2`` the positive root of ``sigma^4 / s^2 + nT sigma^2 - S = 0``,
    alternated to their joint fixed point (S, the expected squared residual, depends on the signal).

    Parameters
    ----------
    expectations : dict
        ``resp`` (n, T): P(z_i = s | y_i); ``params``: the current parameters.
    prior : LogPrior or None
    """
    y, r = data["y"], expectations["resp"]
    n, T = y.shape
    back = np.stack([np.roll(y, -s, axis=1) for s in range(T)], axis=1)  # back[i, s, t] = y_i[(t + s) % T]
    b = np.einsum("is,ist->t", r, back)
    total = float((y**2).sum())

    def scatter(signal):
        return total - 2 * float(b @ signal) + n * float(signal @ signal)

    if prior is None:
        signal = b / n
        return {"signal": signal, "sigma": np.array(np.sqrt(scatter(signal) / (n * T)))}
    sigma = float(expectations["params"]["sigma"])
    s2 = SIGMA_SCALE**2
    for _ in range(500):
        signal = b / (n + sigma**2 / SIGNAL_SCALE**2)
        new = np.sqrt(s2 * (-n * T + np.sqrt((n * T) ** 2 + 4 * scatter(signal) / s2)) / 2)
        done = abs(new - sigma) <= 1e-15 * sigma
        sigma = new
        if done:
            break
    return {"signal": b / (n + sigma**2 / SIGNAL_SCALE**2), "sigma": np.array(sigma)}
