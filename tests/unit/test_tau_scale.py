"""τ standardisation per arity: pairs and triples each get their training mean and sd."""

from __future__ import annotations

import pytest
import torch

from geneint.train.sets import TauScale


def test_each_arity_is_standardised_with_its_own_mean_and_sd():
    tau = torch.tensor([0.1, 0.3, -1.0, -3.0, -2.0])
    arity = torch.tensor([2, 2, 3, 3, 3])
    scale = TauScale.fit(tau, arity)
    assert scale.by_arity[2] == pytest.approx((0.2, 0.1414214))
    assert scale.by_arity[3] == pytest.approx((-2.0, 1.0))
    z = scale.standardise(tau, arity)
    for a in (2, 3):
        assert float(z[arity == a].mean()) == pytest.approx(0.0, abs=1e-6)
        assert float(z[arity == a].std()) == pytest.approx(1.0, abs=1e-5)
    torch.testing.assert_close(scale.published(z, arity), tau)
    assert TauScale.from_json(scale.to_json()) == scale


def test_a_constant_or_single_arity_gets_sd_one_and_unknown_arities_are_refused():
    scale = TauScale.fit(torch.tensor([0.5, 0.5, 0.2]), torch.tensor([3, 3, 2]))
    assert scale.by_arity == {2: (pytest.approx(0.2), 1.0), 3: (0.5, 1.0)}
    with pytest.raises(ValueError, match=r"arity \[4\].*arities \[2, 3\]"):
        scale.published(torch.zeros(1), torch.tensor([4]))
