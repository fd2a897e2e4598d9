"""What the 8.19 integ-test node lacks, and that lrr-es says so clearly instead of failing obscurely."""
from __future__ import annotations

import os
import subprocess
import sys

import elasticsearch
import pytest

from lrr_es import es as esio
from lrr_es.config import config_from_dict
from lrr_es.errors import MissingCapabilityError
from lrr_es.migrate import migrate
from lrr_es.templates import SYSTEM_INDICES, catalog_template

LACKING = ("lang-painless", "mapper-extras", "analysis-common", "reindex")


def test_connect_takes_the_version_from_nodes_local_when_get_root_answers_405(es, es_url):
    with pytest.raises(elasticsearch.ApiError) as root:  # no rest-root module on this distribution
        es.info()
    assert root.value.meta.status == 405
    client = esio.connect(es_url)
    assert esio.server_info(client)["number"] == "8.19.21"


def test_capabilities_report_version_modules_and_what_is_missing(es):
    caps = esio.capabilities(es)
    assert caps["version"] == "8.19.21" and caps["native_knn"] is True and caps["dense_vector"] is True
    assert caps["modules"] == ["apm", "transport-netty4", "x-pack-core", "x-pack-security"]
    assert list(caps["missing"]) == list(LACKING)


def test_require_names_every_missing_module_and_the_distribution(es):
    with pytest.raises(MissingCapabilityError) as refused:
        esio.require(es)
    message = str(refused.value)
    assert message.startswith("this Elasticsearch node (8.19.21) lacks lang-painless (stored Painless scripts")
    assert all(module in message for module in LACKING) and "rank_feature" in message
    assert "integ-test distribution, which carries only apm, transport-netty4, x-pack-core, x-pack-security" in message
    assert esio.require(es, {"x-pack-core": "anything"})["version"] == "8.19.21"  # a need the node meets


def test_migrate_refuses_at_once_and_changes_nothing(es, index_name):
    config = config_from_dict({"indices": {index_name: {}}})
    with pytest.raises(MissingCapabilityError, match="lacks lang-painless .*mapper-extras .*analysis-common .*reindex"):
        migrate(es, config, index_name, progress=False, echo=lambda _: None)
    assert esio.get_index_template(es, f"lrr-catalog-{index_name}") is None
    assert esio.list_indices(es, f"{index_name}*") == []
    assert not any(esio.index_exists(es, name) for name in SYSTEM_INDICES)


def test_the_cli_migrate_prints_the_message_and_exits_1(es_url):
    env = {**os.environ, "ES_URL": es_url}
    proc = subprocess.run([sys.executable, "-m", "lrr_es.cli", "migrate", "--no-progress"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr.startswith("lrr-es: error: this Elasticsearch node (8.19.21) lacks lang-painless"), proc.stderr


def test_io_functions_name_the_missing_module(es, index_name):
    with pytest.raises(MissingCapabilityError, match="put_stored_script: .* lacks the lang-painless module"):
        esio.put_stored_script(es, f"{index_name}-script", "return 1;")
    assert esio.get_stored_script(es, f"{index_name}-script") is None
    with pytest.raises(MissingCapabilityError, match="create_index: .* lacks the mapper-extras module"):
        esio.create_index(es, index_name, {"mappings": {"properties": {"popularity": {"type": "rank_feature"}}}})
    with pytest.raises(MissingCapabilityError, match="put_index_template: .* lacks the analysis-common module"):
        esio.put_index_template(es, f"{index_name}-tpl", catalog_template(config_from_dict({"indices": {index_name: {}}})
                                                                          .index(index_name)))
    esio.create_index(es, index_name)
    esio.put_document(es, index_name, "1", {"n": 1}, refresh=True)
    with pytest.raises(MissingCapabilityError, match="delete_by_query: .* lacks the reindex module"):
        esio.delete_by_query(es, index_name, {"match_all": {}})
    with pytest.raises(MissingCapabilityError, match="update_by_query: .* lacks the reindex module"):
        esio.update_by_query(es, index_name, {"script": {"source": "ctx._source.n++"}})
    with pytest.raises(MissingCapabilityError, match="update: .* lacks the lang-painless module"):
        esio.update(es, index_name, "1", {"script": {"source": "ctx._source.n++"}})


def test_other_errors_pass_unchanged(es, index_name):
    with pytest.raises(elasticsearch.BadRequestError):  # a bad mapping is not a missing module
        esio.create_index(es, index_name, {"mappings": {"properties": {"x": {"type": "text", "no_such_option": 1}}}})
    with pytest.raises(elasticsearch.NotFoundError):
        esio.update(es, index_name, "1", {"doc": {"n": 1}})
