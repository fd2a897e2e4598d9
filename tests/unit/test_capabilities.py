"""The capability check is pure: literal capability dicts in, the missing modules and the message out."""
import pytest

from lrr_es import es as esio
from lrr_es.capabilities import REQUIRED_MODULES, check, describe_missing, missing_modules, module_name
from lrr_es.errors import MissingCapabilityError

FULL = {"version": "7.10.2", "modules": ["aggs-matrix-stats", "analysis-common", "lang-painless", "mapper-extras",
                                         "reindex", "transport-netty4"]}
INTEG = {"version": "8.19.21", "modules": ["apm", "transport-netty4", "x-pack-core", "x-pack-security"]}


def test_a_full_node_lacks_nothing():
    assert missing_modules(FULL) == {}
    check(FULL)


def test_unknown_modules_do_not_refuse():
    assert missing_modules({"version": "8.15.0", "modules": None}) == {}


def test_the_integ_test_node_lacks_all_four_in_order():
    assert list(missing_modules(INTEG)) == ["lang-painless", "mapper-extras", "analysis-common", "reindex"]
    assert missing_modules(INTEG, {"x-pack-core": "why"}) == {}


def test_the_message_names_modules_purposes_and_the_distribution():
    message = describe_missing(INTEG, missing_modules(INTEG))
    assert message.startswith("this Elasticsearch node (8.19.21) lacks lang-painless (stored Painless scripts")
    assert all(f"{name} ({purpose})" in message for name, purpose in REQUIRED_MODULES.items())
    assert "integ-test distribution, which carries only apm, transport-netty4, x-pack-core, x-pack-security" in message
    partial = {"version": "7.17.0", "modules": [m for m in FULL["modules"] if m != "reindex"]}
    assert "integ-test" not in describe_missing(partial, missing_modules(partial))
    with pytest.raises(MissingCapabilityError, match=r"\(7.17.0\) lacks reindex \(_update_by_query"):
        check(partial)


class _Answer(Exception):
    """An error answer as both clients expose it (``info`` is the body)."""

    def __init__(self, info):
        super().__init__(str(info))
        self.info = info


@pytest.mark.parametrize("info, module", [
    ({"error": {"type": "illegal_argument_exception",
                "reason": "unable to put stored script with unsupported lang [painless]"}}, "lang-painless"),
    ({"error": {"type": "search_phase_execution_exception", "caused_by": {"reason": "script_lang not supported [painless]"}}},
     "lang-painless"),
    ({"error": {"type": "mapper_parsing_exception", "reason": "The mapper type [rank_features] declared on field [q2e] "
                "does not exist."}}, "mapper-extras"),
    ({"error": {"type": "illegal_argument_exception", "reason": "Unknown filter type [edge_ngram] for [lrr_edge]"}},
     "analysis-common"),
    ({"error": {"reason": "Custom Analyzer [a] failed to find filter under name [asciifolding]"}}, "analysis-common"),
    ({"error": "no handler found for uri [/x/_delete_by_query?refresh=true] and method [POST]"}, "reindex"),
    ({"error": {"type": "mapper_parsing_exception", "reason": "unknown parameter [no_such_option] on field [x]"}}, None),
    ({"error": "no handler found for uri [/x/_no_such_endpoint] and method [POST]"}, None),
])
def test_error_answers_that_show_a_missing_module(info, module):
    assert esio._missing_module(_Answer(info)) == module


@pytest.mark.parametrize("entry, name", [
    ({"name": "lang-painless", "classname": "org.elasticsearch.painless.PainlessPlugin"}, "lang-painless"),
    ({"name": "org.elasticsearch.painless.PainlessPlugin"}, "lang-painless"),  # class-path plugin (embedded 7.10.2)
    ({"name": "org.elasticsearch.index.reindex.ReindexPlugin"}, "reindex"),
    ({"name": "org.elasticsearch.index.mapper.MapperExtrasPlugin"}, "mapper-extras"),
    ({"name": "org.elasticsearch.join.ParentJoinPlugin"}, "org.elasticsearch.join.ParentJoinPlugin"),
    ({"name": "x-pack-core"}, "x-pack-core"),
])
def test_module_names_from_node_info(entry, name):
    assert module_name(entry) == name
