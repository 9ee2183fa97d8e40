"""Tabular RCMDP benchmarks. Every builder returns a validated :class:`TabularCmdp` (costs in [0, 1]).

The objective is written as a cost c_0 = r_max − r, so J_c0 = H·r_max − J_r and the robust
reward is H·r_max − (worst-case J_c0).

* ``river_swim`` — Constrained River-Swim, 6 states, 2 actions (a0 = left/drift, a1 = swim right).
* ``garnet``     — G(S, A): every kernel row is softmax of N(μ, σ²) logits; costs uniform in [0, 1].
* ``frozen_lake``— modified FrozenLake 4×4: slippery moves, holes are not terminal but cost 1 (the
  constraint) and send the agent back to the start; the goal is absorbing and free.
* ``hazard_corridor`` — K = 2 (speed + hazard): a corridor walked slowly (+1) or run fast (+2, jumping
  over hazard cells but paying the speed cost); hazard cells cost the hazard constraint.
"""

from __future__ import annotations

import numpy as np

from robocoord.training.rcmdp.mdp import RcmdpInputError, TabularCmdp

RIVER_SWIM_REWARD = np.array([0.001, 0.0, 0.0, 0.0, 0.1, 1.0])
RIVER_SWIM_CONSTRAINT = np.array([0.2, 0.035, 0.0, 0.01, 0.08, 0.9])


def river_swim_kernel() -> np.ndarray:
    S, A = 6, 2
    P = np.zeros((S, A, S))
    for s in range(1, S - 1):
        P[s, 0, s], P[s, 0, s - 1], P[s, 0, s + 1] = 0.6, 0.3, 0.1
        P[s, 1, s], P[s, 1, s - 1], P[s, 1, s + 1] = 0.6, 0.1, 0.3
    # End states: a0 at s0 mostly stays; a1 at s5 mostly stays. The remaining end-state rows are not
    # given in the spec; they mirror the middle states with the blocked move folded into "stay".
    P[0, 0, 0], P[0, 0, 1] = 0.9, 0.1
    P[0, 1, 0], P[0, 1, 1] = 0.7, 0.3
    P[5, 1, 5], P[5, 1, 4] = 0.9, 0.1
    P[5, 0, 5], P[5, 0, 4] = 0.7, 0.3
    return P


def river_swim(gamma: float, budgets: list[float] | np.ndarray) -> TabularCmdp:
    P = river_swim_kernel()
    reward = np.repeat(RIVER_SWIM_REWARD[:, None], 2, axis=1)
    constraint = np.repeat(RIVER_SWIM_CONSTRAINT[:, None], 2, axis=1)
    costs = np.stack([reward.max() - reward, constraint])
    rho = np.zeros(6)
    rho[0] = 1.0
    return TabularCmdp(P, costs, np.asarray(budgets), gamma, rho, "river_swim", ("objective", "constraint"))


def garnet(
    gamma: float,
    budgets: list[float] | np.ndarray,
    states: int = 15,
    actions: int = 20,
    mu: float = 0.0,
    sigma: float = 1.0,
    n_constraints: int = 1,
    seed: int = 0,
) -> TabularCmdp:
    if states < 2 or actions < 1 or not sigma >= 0:
        raise RcmdpInputError("garnet: need states >= 2, actions >= 1, sigma >= 0")
    rng = np.random.default_rng(seed)
    logits = rng.normal(mu, sigma, size=(states, actions, states))
    P = np.exp(logits - logits.max(axis=-1, keepdims=True))
    P /= P.sum(axis=-1, keepdims=True)
    costs = rng.uniform(0.0, 1.0, size=(1 + n_constraints, states, actions))
    rho = np.full(states, 1.0 / states)
    names = ("objective", *(f"c{i}" for i in range(1, n_constraints + 1)))
    return TabularCmdp(P, costs, np.asarray(budgets), gamma, rho, "garnet", names)


FROZEN_LAKE_MAP = ("SFFF", "FHFH", "FFFH", "HFFG")
MOVES = ((0, -1), (1, 0), (0, 1), (-1, 0))  # left, down, right, up (gymnasium's order)


def frozen_lake(gamma: float, budgets: list[float] | np.ndarray, slip: float = 0.2) -> TabularCmdp:
    if not 0 <= slip < 1:
        raise RcmdpInputError(f"frozen_lake slip: must lie in [0, 1), got {slip!r}")
    grid = [list(row) for row in FROZEN_LAKE_MAP]
    n = len(grid)
    S, A = n * n, 4
    start = next(r * n + c for r in range(n) for c in range(n) if grid[r][c] == "S")

    def step(r: int, c: int, move: tuple[int, int]) -> int:
        rr, cc = min(max(r + move[0], 0), n - 1), min(max(c + move[1], 0), n - 1)
        return rr * n + cc

    P = np.zeros((S, A, S))
    costs = np.zeros((2, S, A))
    for r in range(n):
        for c in range(n):
            s = r * n + c
            tile = grid[r][c]
            for a in range(A):
                if tile == "G":
                    P[s, a, s] = 1.0
                    continue
                if tile == "H":  # fell in: pay the hazard, restart
                    P[s, a, start] = 1.0
                    costs[0, s, a] = 1.0
                    costs[1, s, a] = 1.0
                    continue
                costs[0, s, a] = 1.0  # every step away from the goal costs time
                for move, p in (
                    (MOVES[a], 1 - slip),
                    (MOVES[(a + 1) % 4], slip / 2),
                    (MOVES[(a - 1) % 4], slip / 2),
                ):
                    P[s, a, step(r, c, move)] += p
    rho = np.zeros(S)
    rho[start] = 1.0
    return TabularCmdp(P, costs, np.asarray(budgets), gamma, rho, "frozen_lake", ("objective", "hole"))


def hazard_corridor(
    gamma: float, budgets: list[float] | np.ndarray, length: int = 8, hazards: tuple[int, ...] = (3, 5)
) -> TabularCmdp:
    """Actions: 0 walk (+1 w.p. .9, else stay), 1 run (+2 w.p. .8, +1 w.p. .1, stay .1), 2 back (−1)."""
    if length < 4 or any(not 0 < h < length - 1 for h in hazards):
        raise RcmdpInputError("hazard_corridor: need length >= 4 and hazards strictly inside the corridor")
    S, A, goal = length, 3, length - 1
    P = np.zeros((S, A, S))
    costs = np.zeros((3, S, A))
    for s in range(S):
        if s == goal:
            P[s, :, s] = 1.0
            continue
        for a, moves in enumerate((((1, 0.9), (0, 0.1)), ((2, 0.8), (1, 0.1), (0, 0.1)), ((-1, 1.0),))):
            for delta, p in moves:
                P[s, a, min(max(s + delta, 0), goal)] += p
        costs[0, s, :] = 1.0
        costs[1, s, 1] = 1.0
        if s in hazards:
            costs[2, s, :] = 1.0
    rho = np.zeros(S)
    rho[0] = 1.0
    return TabularCmdp(
        P, costs, np.asarray(budgets), gamma, rho, "hazard_corridor", ("objective", "speed", "hazard")
    )


BUILDERS = {
    "river_swim": river_swim,
    "garnet": garnet,
    "frozen_lake": frozen_lake,
    "hazard_corridor": hazard_corridor,
}
