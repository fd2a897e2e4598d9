"""The capability check on the embedded 7.10.2 node: its class-path modules count, nothing is missing."""
import pytest

from lrr_es import es as esio

pytestmark = pytest.mark.integration


def test_the_embedded_node_has_every_module_lrr_es_needs(es):
    caps = esio.require(es)
    assert caps["version"] == "7.10.2" and caps["missing"] == {}
    assert {"lang-painless", "mapper-extras", "analysis-common", "reindex"} <= set(caps["modules"])
