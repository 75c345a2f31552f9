#!/usr/bin/env python3
"""mal-simulator (PyPI mal-simulator 3.3.0) on vigie's attack graph, for
bench/exercise-vs-malsim.sh.

Input: the JSON of `cargo run -p vigie-sim --example exercise_bench -- export-graph`
(nodes, internet, crown_jewels, edges with from/to/technique/rule/ttc).

It writes a MAL language from exercise.mal.tmpl (one Edge<k> asset type per distinct TTC
distribution: MAL TTCs are per attack-step type), builds the MAL model through
maltoolbox's API (one Node per asset plus the Internet, one Edge<k> per attack edge),
the attack graph, and runs malsim's own simulator loop in TTCMode.PRE_SAMPLE: every
sample is `sim.reset()` (which pre-samples a TTC for every attack step and the
Bernoulli of every step: the impossible ones) then `sim.step()` until the attacker is
done, the attacker attempting its whole action surface every iteration (it attacks
everything reachable at once, so it is not a strategy but the earliest-arrival process).

Correspondence with vigie (PRE_SAMPLE reads: a step succeeds on attempt k when
k + 1 >= its pre-sampled TTC, one attempt per iteration): an edge of sampled time t
hours takes max(1, ceil(t/UNIT) - 1) iterations, so a node's compromise iteration is
the shortest path from the entry over those integer weights, i.e. vigie's Dijkstra over
sampled times, discretised: UNIT * iterations lies within [t - hops*UNIT, t + hops*UNIT]
of the continuous time over the same path (each edge's error is within one UNIT). The
`--check` option verifies that identity on malsim's own pre-sampled values, sample by
sample.

Modes (one JSON line on stdout):
  speed GRAPH --samples N [--unit H] [--horizon H] [--check K]
      every node's compromise time, N samples; samples/s
  ttc GRAPH --jewel ID --samples N [--unit H] [--horizon H] [--loop-samples M]
      mean and standard error of the jewel's compromise time over the samples that
      reach it within the horizon, and P(reached): from the continuous shortest path
      over malsim's pre-sampled TTCs (all N samples), and from malsim's loop (first M)
"""

import argparse
import heapq
import json
import math
import os
import sys
import tempfile
import time

from maltoolbox.attackgraph import AttackGraph
from maltoolbox.language import LanguageGraph
from maltoolbox.model import Model
from malsim import MalSimulator
from malsim.config.agent_settings import AttackerSettings
from malsim.config.sim_settings import MalSimulatorSettings, TTCMode

HERE = os.path.dirname(os.path.abspath(__file__))


def mal_ttc(ttc, unit):
    """vigie's (dist, mean_hours, cv, p_success) as a MAL TTC expression in iterations of
    `unit` hours, or None for a step of zero time that always succeeds."""
    dist, mean, cv, p = ttc["dist"], ttc["mean_hours"] / unit, ttc["cv"], ttc["p_success"]
    if mean == 0.0 or dist == "fixed" or cv == 0.0:
        if mean == 0.0:
            core = None
        else:
            # MAL has no constant distribution: a uniform of relative width 1e-9.
            core = f"Uniform({mean * (1 - 1e-9)!r}, {mean * (1 + 1e-9)!r})"
    elif dist == "exponential":
        core = f"Exponential({1.0 / mean!r})"
    elif dist == "gamma":
        # shape 1/cv^2, scale mean*cv^2 (docs/model.md).
        core = f"Gamma({1.0 / cv ** 2!r}, {mean * cv ** 2!r})"
    elif dist == "lognormal":
        # sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2/2; malsim's LogNormal(mu, sigma)
        # is scipy's lognorm(s=sigma, scale=exp(mu)).
        s2 = math.log1p(cv ** 2)
        core = f"LogNormal({math.log(mean) - s2 / 2!r}, {math.sqrt(s2)!r})"
    else:
        raise ValueError(f"unknown distribution {dist!r}")
    if p < 1.0:
        core = f"Bernoulli({p!r})" if core is None else f"Bernoulli({p!r}) * {core}"
    return core


def write_language(graph, unit, path):
    """The MAL language of this graph; returns edge index -> Edge type index."""
    kinds, edge_kind = {}, []
    for e in graph["edges"]:
        key = json.dumps(e["ttc"], sort_keys=True)
        edge_kind.append(kinds.setdefault(key, len(kinds)))
    assets, assocs = [], []
    for key, k in kinds.items():
        ttc = mal_ttc(json.loads(key), unit)
        step = "| effect traverse" if ttc is None or ttc.startswith("Bernoulli") and "*" not in ttc else "| traverse"
        ttc_s = f" [{ttc}]" if ttc is not None else ""
        assets.append(
            f"  // {key}\n  asset Edge{k} {{\n    {step}{ttc_s}\n      -> dst.compromise\n  }}"
        )
        assocs.append(f"  Node [src] 1 <-- Leaves{k} --> * [out{k}] Edge{k}")
        assocs.append(f"  Edge{k} [in{k}] * <-- Enters{k} --> 1 [dst] Node")
    reaches = "-> " + ",\n         ".join(f"out{k}.traverse" for k in range(len(kinds)))
    with open(os.path.join(HERE, "exercise.mal.tmpl")) as f:
        text = f.read()
    text = text.replace("UNIT", repr(unit))
    text = text.replace("{reaches}", reaches if kinds else "")
    text = text.replace("{edge_assets}", "\n".join(assets))
    text = text.replace("{associations}", "\n".join(assocs))
    with open(path, "w") as f:
        f.write(text)
    return edge_kind


def build(graph, unit, workdir):
    """(attack graph, per-node names, per-edge traverse node names)."""
    lang_path = os.path.join(workdir, "vigie-exercise.mal")
    edge_kind = write_language(graph, unit, lang_path)
    lg = LanguageGraph.from_mal_spec(lang_path)
    model = Model("vigie-exercise", lg)
    nodes = [model.add_asset("Node", f"n{i}") for i in range(len(graph["nodes"]))]
    for j, e in enumerate(graph["edges"]):
        a = model.add_asset(f"Edge{edge_kind[j]}", f"e{j}")
        a.add_associated_assets("src", {nodes[e["from"]]})
        a.add_associated_assets("dst", {nodes[e["to"]]})
    return AttackGraph(lg, model)


def new_sim(ag, entry, goals, seed):
    attacker = AttackerSettings(name="attacker", entry_points=entry, goals=goals)
    settings = MalSimulatorSettings(ttc_mode=TTCMode.PRE_SAMPLE, seed=seed)
    return MalSimulator(ag, [attacker], settings)


def run_sample(sim, max_iter):
    """One sample: reset (pre-sample), then attack the whole surface each iteration.
    Returns {full name: compromise iteration} of the performed steps."""
    sim.reset()
    it = 0
    while not sim.done() and it < max_iter:
        state = sim.agent_states["attacker"]
        sim.step({"attacker": list(state.action_surface)})
        it += 1
    state = sim.agent_states["attacker"]
    return {n.full_name: k for k, ns in state.performed_nodes_order.items() for n in ns}


def shortest_paths(sim, ag, entry, weight):
    """Dijkstra over malsim's attack graph with its own pre-sampled TTCs and impossible
    steps of the current sample: {full name: arrival} of every attack step reached.
    `weight(ttc)` turns a pre-sampled TTC (in iterations) into a step's cost; `effect`
    steps cost nothing (malsim performs them with their parent)."""
    gs = sim.sim_state.graph_state
    dist = {entry: 0.0}
    heap = [(0.0, entry.id, entry)]
    while heap:
        d, _, node = heapq.heappop(heap)
        if d > dist[node]:
            continue
        for child in node.children:
            if child in gs.impossible_attack_steps:
                continue
            w = 0.0 if child.causal_mode == "effect" else weight(gs.ttc_values[child])
            if d + w < dist.get(child, math.inf):
                dist[child] = d + w
                heapq.heappush(heap, (d + w, child.id, child))
    return {n.full_name: d for n, d in dist.items()}


def loop_iterations(ttc):
    """Iterations PRE_SAMPLE spends on a step of pre-sampled TTC `ttc`: attempt k
    succeeds when k + 1 >= ttc (attacker_step.attempt_attacker_step), k >= 1."""
    return max(1, math.ceil(ttc - 1))


def expected_iterations(sim, ag, graph, max_iter):
    """What run_sample must give if PRE_SAMPLE's loop is the shortest path over
    loop_iterations() weights."""
    entry = ag.get_node_by_full_name(f"n{graph['internet']}:compromise")
    got = shortest_paths(sim, ag, entry, loop_iterations)
    return {k: int(v) for k, v in got.items()
            if k.startswith("n") and k.endswith(":compromise") and v <= max_iter}


def mode_speed(args, graph, ag):
    entry = {f"n{graph['internet']}:compromise"}
    sim = new_sim(ag, entry, frozenset(), args.seed)
    max_iter = math.ceil(args.horizon / args.unit)
    reached = 0
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for i in range(args.samples):
        got = run_sample(sim, max_iter)
        nodes = {k: v for k, v in got.items() if k.startswith("n") and k.endswith(":compromise")}
        reached += len(nodes) - 1
        if i < args.check:
            want = expected_iterations(sim, ag, graph, max_iter)
            if nodes != want:
                diff = {k: (nodes.get(k), want.get(k)) for k in set(nodes) | set(want) if nodes.get(k) != want.get(k)}
                sys.exit(f"sample {i}: malsim's iterations differ from the shortest path: {list(diff.items())[:5]}")
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    return {
        "samples": args.samples,
        "wall_s": wall,
        "cpu_s": cpu,
        "samples_per_s": args.samples / wall,
        "samples_per_cpu_s": args.samples / cpu,
        "mean_assets_reached": reached / args.samples,
        "checked_samples": min(args.check, args.samples),
    }


def mean_se(xs):
    n = len(xs)
    if n == 0:
        return None, None
    mean = sum(xs) / n
    if n == 1:
        return mean, None
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    return mean, sd / math.sqrt(n)


def mode_ttc(args, graph, ag):
    """The jewel's time to compromise two ways, from the same pre-sampled TTCs: the
    continuous shortest path over them (every sample; the figure to compare with vigie
    to within standard errors), and malsim's own loop (the first --loop-samples
    samples; discretised to --unit per step, so biased low by about unit/2 per hop)."""
    idx = graph["nodes"].index(args.jewel)
    goal = f"n{idx}:compromise"
    entry_name = f"n{graph['internet']}:compromise"
    entry = ag.get_node_by_full_name(entry_name)
    sim = new_sim(ag, {entry_name}, {goal}, args.seed)
    max_iter = math.ceil(args.horizon / args.unit)
    cont, loop = [], []
    t0 = time.perf_counter()
    for i in range(args.samples):
        if i < args.loop_samples:
            got = run_sample(sim, max_iter)
            if goal in got and got[goal] * args.unit <= args.horizon:
                loop.append(got[goal] * args.unit)
        else:
            sim.reset()
        t = shortest_paths(sim, ag, entry, float).get(goal, math.inf) * args.unit
        if t <= args.horizon:
            cont.append(t)
    wall = time.perf_counter() - t0
    mean, se = mean_se(cont)
    lmean, lse = mean_se(loop)
    n_loop = min(args.loop_samples, args.samples)
    return {
        "jewel": args.jewel,
        "samples": args.samples,
        "p_reached": len(cont) / args.samples,
        "mean_hours": mean,
        "se_hours": se,
        "loop_samples": n_loop,
        "loop_p_reached": len(loop) / n_loop if n_loop else None,
        "loop_mean_hours": lmean,
        "loop_se_hours": lse,
        "wall_s": wall,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["speed", "ttc"])
    p.add_argument("graph")
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--unit", type=float, default=1.0, help="hours per malsim iteration")
    p.add_argument("--horizon", type=float, default=720.0)
    p.add_argument("--check", type=int, default=0, help="verify the shortest-path identity on the first K samples")
    p.add_argument("--jewel", help="asset id (ttc mode)")
    p.add_argument("--loop-samples", type=int, default=0,
                   help="ttc mode: run malsim's loop on the first M samples too")
    p.add_argument("--keep", help="directory to keep the generated .mal in")
    args = p.parse_args()
    with open(args.graph) as f:
        graph = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or tmp
        t0 = time.perf_counter()
        ag = build(graph, args.unit, workdir)
        build_s = time.perf_counter() - t0
        out = mode_speed(args, graph, ag) if args.mode == "speed" else mode_ttc(args, graph, ag)
    out.update({"mode": args.mode, "build_s": build_s, "unit_hours": args.unit,
                "attack_steps": len(ag.attack_steps), "edges": len(graph["edges"])})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
