"""Rule evaluation throughput: durable-rules against the plain-Python reading, in one run.

For the test pack and every installed pack, the same deterministic random inputs (site types,
answers biased to the pack's thresholds and choices, site attributes) go through
:func:`~inspect_engine.engine.fired_rules` and
:func:`~inspect_engine.reference_eval.reference_outcome`; the report gives evaluations per
second for each and their ratio, and checks that both agree.
Not a timed test: numbers depend on the machine; compare the ratio.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from inspect_engine.answers import AnswerError, check_answers
from inspect_engine.conditions import AnswerValue, Scalar
from inspect_engine.engine import compile_pack, fired_rules
from inspect_engine.packs import load_pack, pack_dirs
from inspect_engine.reference_eval import reference_outcome
from inspect_engine.rulepack import (
    ChoiceAnswer,
    MultiChoiceAnswer,
    NumberAnswer,
    RulePack,
    YesNoAnswer,
)

INPUTS = 2_000
"""Distinct inputs per pack; each is evaluated once by each reader."""
SEED = 20200911
MINI = Path(__file__).resolve().parent.parent / "tests" / "data" / "packs" / "good" / "mini"

Input = tuple[frozenset[str], dict[str, AnswerValue], dict[str, Scalar]]


def _thresholds(pack: RulePack) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for rule in pack.rules:
        for node in rule.when.walk():
            if node.answer is None:
                continue
            op, operand = node.test
            for v in operand if op == "in" else [operand]:
                if isinstance(v, int | float) and not isinstance(v, bool):
                    found.setdefault(node.answer, []).append(float(v))
    return found


def _value(rng: random.Random, pack: RulePack, item_id: str, near: list[float]) -> Any:
    spec = pack.item(item_id).answer
    if isinstance(spec, YesNoAnswer):
        return rng.choice(["yes", "no", "na"] if spec.allow_na else ["yes", "no"])
    if isinstance(spec, NumberAnswer):
        if near and rng.random() < 0.5:
            return min(max(rng.choice(near), spec.min), spec.max)
        value = rng.uniform(spec.min, spec.max)
        return float(round(value)) if spec.integer else value
    if isinstance(spec, ChoiceAnswer):
        return rng.choice([o.value for o in spec.options])
    if isinstance(spec, MultiChoiceAnswer):
        options = [o.value for o in spec.options]
        return rng.sample(options, rng.randint(0, len(options)))
    return "现场记录"


def random_inputs(pack: RulePack, count: int, seed: int = SEED) -> list[Input]:
    """``count`` valid inputs for ``pack``, the same for the same seed."""
    rng = random.Random(seed)
    near = _thresholds(pack)
    types_all = [t.id for t in pack.manifest.site_types]
    inputs: list[Input] = []
    for _ in range(count):
        types = frozenset(rng.sample(types_all, rng.randint(1, min(2, len(types_all)))))
        site: dict[str, Scalar] = {}
        for attr in pack.manifest.site_attributes:
            if rng.random() < 0.5:
                site[attr.id] = {"bool": rng.random() < 0.5, "number": rng.uniform(0, 100)}.get(
                    attr.type, "文本"
                )
        raw = {
            i.id: _value(rng, pack, i.id, near.get(i.id, []))
            for i in pack.items
            if types & set(i.applies_to) and rng.random() < 0.7
        }
        while True:
            try:
                answers = check_answers(pack, types, raw, site)
                break
            except AnswerError as err:
                del raw[err.item_id]
        inputs.append((types, answers, site))
    return inputs


def bench_pack(pack: RulePack, count: int = INPUTS) -> dict[str, float]:
    """Evaluations per second through durable-rules and through the plain reading."""
    inputs = random_inputs(pack, count)
    compile_pack(pack)
    fired_rules(pack, *inputs[0])  # first session: allocate outside the timing
    start = time.perf_counter()
    engine = [fired_rules(pack, *args) for args in inputs]
    engine_s = time.perf_counter() - start
    start = time.perf_counter()
    reference = [reference_outcome(pack, *args) for args in inputs]
    reference_s = time.perf_counter() - start
    if engine != reference:
        raise AssertionError(f"{pack.id}: durable-rules and the plain reading disagree")
    return {"engine": count / engine_s, "reference": count / reference_s}


def main() -> None:
    """Print one line per pack: rules, context facts, evaluations/s for each reader, ratio."""
    folders = [MINI, *pack_dirs()]
    print(f"{INPUTS} random inputs per pack; evaluations per second (higher is better)")
    print(f"{'pack':<22}{'rules':>6}{'facts':>6}{'durable-rules':>15}{'plain':>10}{'ratio':>8}")
    for folder in folders:
        pack = load_pack(folder, root=folder.parent)
        rates = bench_pack(pack)
        asserts = compile_pack(pack).asserts
        ratio = rates["reference"] / rates["engine"]
        print(
            f"{pack.id:<22}{len(pack.rules):>6}{asserts:>6}"
            f"{rates['engine']:>15,.0f}{rates['reference']:>10,.0f}{ratio:>7.1f}x"
        )


if __name__ == "__main__":
    main()
