"""Nothing twice: which config changes count, and which past version answers already."""

from retrainer.domain.config import RetrainConfig
from retrainer.domain.fingerprint import (
    Fingerprint,
    PastTraining,
    already_judged,
    no_change_reason,
    training_config_hash,
)


def test_only_what_shapes_the_model_changes_the_config_hash(flights_config: RetrainConfig):
    base = training_config_hash(flights_config)
    irrelevant = flights_config.model_copy(deep=True)
    irrelevant.promotion.min_improvement = 0.01
    irrelevant.model.threads = 1
    irrelevant.evaluation.importance_rows = 10
    relevant = flights_config.model_copy(deep=True)
    relevant.model.params = {"max_depth": 3}

    assert training_config_hash(irrelevant) == base
    assert training_config_hash(relevant) != base


def test_a_version_judged_against_the_champion_answers_for_the_same_training():
    rejected = PastTraining("4", "r4", "rejected", champion_before="3")
    older = PastTraining("2", "r2", "rejected", champion_before="1")
    not_compared = PastTraining("5", "r5", "not compared", champion_before="3")

    assert already_judged([older, rejected, not_compared], champion="3") == rejected
    assert already_judged([older], champion="3") is None  # judged against another champion
    assert already_judged([not_compared], champion="3") is None  # that question is open
    champion = PastTraining("3", "r3", "promoted", champion_before="1")
    assert already_judged([champion], champion="3") == champion


def test_the_reason_says_which_version_and_how_to_force():
    past = PastTraining("4", "r4", "rejected", champion_before="3")
    reason = no_change_reason(Fingerprint("a" * 64, "b" * 64), past, "3")
    assert reason.startswith("training data aaaaaaaaaaaa and training config bbbbbbbbbbbb")
    assert "v4 (rejected, champion v3)" in reason and "--force" in reason
