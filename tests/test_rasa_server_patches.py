"""bot/rasa_server.py's fixes to Rasa 3.6.21: the action server's responses are still validated,
and endpoint requests reuse keep-alive connections with Rasa's own semantics."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bot.rasa_server import apply_patches, close_shared_sessions


@pytest.fixture(scope="module", autouse=True)
def patched():
    assert apply_patches()


async def _server(peers: list):
    async def echo(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername")[1])
        body = await request.json()
        return web.json_response({"got": body, "token": request.query.get("token"),
                                  "auth": request.headers.get("X-Test")})

    async def text(request: web.Request) -> web.Response:
        return web.Response(text="plain")

    app = web.Application()
    app.router.add_post("/webhook", echo)
    app.router.add_post("/text", text)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}"


async def test_endpoint_requests_reuse_one_connection_and_keep_rasas_semantics():
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    peers: list = []
    runner, base = await _server(peers)
    try:
        endpoint = EndpointConfig(f"{base}/webhook", params={"token": "t0"}, headers={"X-Test": "h1"})
        results = [await endpoint.request(json={"n": n}) for n in range(3)]
        assert [r["got"]["n"] for r in results] == [0, 1, 2]
        assert all(r["token"] == "t0" and r["auth"] == "h1" for r in results)
        assert len(set(peers)) == 1  # one keep-alive connection, not one per call
        concurrent = await asyncio.gather(*(endpoint.request(json={"n": n}) for n in range(5)))
        assert sorted(r["got"]["n"] for r in concurrent) == list(range(5))
        assert await EndpointConfig(base).request(subpath="text") is None  # not JSON: None, as Rasa does
        with pytest.raises(ClientResponseError) as error:
            await EndpointConfig(base).request(subpath="missing")
        assert error.value.status == 404
        await asyncio.sleep(2.5)  # idle past the client's keep-alive: a fresh connection, no error
        assert (await endpoint.request(json={"n": 9}))["got"]["n"] == 9
    finally:
        await close_shared_sessions()
        await runner.cleanup()


# -- the action server's responses: the same verdict as Rasa's own validation ------------------

def _responses():
    valid_events = [
        {"event": "slot", "name": "aspect", "value": "fee", "timestamp": None},
        {"event": "slot", "name": "aspect", "value": None},
        {"event": "followup", "name": "filing_form"},
        {"event": "active_loop", "name": None},
        {"event": "pause"}, {"event": "resume"}, {"event": "reset_slots"}, {"event": "restart"},
        {"event": "action", "name": "action_listen", "policy": None, "confidence": None},
        {"event": "bot", "text": "您好", "data": {"custom": {"type": "fallback"}}, "metadata": {}},
        {"event": "user", "text": "你好", "parse_data": {"intent": {"name": "greet", "confidence": 0.9},
                                                        "entities": [{"entity": "aspect", "value": "fee"}]}},
        {"event": "entities", "entities": [{"entity": "aspect", "value": "fee", "start": 0, "end": 2}]},
    ]
    yield {"events": valid_events, "responses": [{"text": "好的"}]}
    yield {"events": [], "responses": []}
    yield {}
    for event in valid_events:
        yield {"events": [event]}
    invalid = [
        {"event": "slot", "name": "aspect"},  # no value
        {"event": "slot", "value": 1},  # no name
        {"event": "no_such_event"},
        {"name": "aspect", "value": 1},  # no event type
        {"event": 3},
        {"event": "action", "name": 5},
        {"event": "action", "confidence": "high"},
        {"event": "user", "text": 7},
        {"event": "user", "parse_data": {"entities": [{"entity": "aspect"}]}},  # entity without value
        {"event": "entities"},
        {"event": "bot", "timestamp": "yesterday"},
        {"event": "pause", "metadata": []},
        "slot",
        None,
    ]
    for event in invalid:
        yield {"events": [valid_events[0], event]}
    yield {"events": {"event": "pause"}}
    yield {"events": [], "responses": ["文本"]}
    yield {"responses": {"text": "x"}}


def test_action_responses_get_the_same_verdict_as_rasas_validation():
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    checked = 0
    for response in _responses():
        try:
            jsonschema.validate(response, schema)
            expected = True
        except jsonschema.ValidationError:
            expected = False
        try:
            ours = RemoteAction._validate_action_result(None, response)
        except jsonschema.ValidationError as e:
            ours = False
            assert "Failed to validate Action server response" in e.message
        assert ours == expected, response
        checked += 1
    assert checked > 30


def test_a_valid_answer_is_validated_without_jsonschemas_walk(monkeypatch):
    import jsonschema
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    walks = []
    cls = validator_for(RemoteAction.action_response_format_spec())
    real = cls.iter_errors
    monkeypatch.setattr(cls, "iter_errors", lambda self, *a, **k: walks.append(1) or real(self, *a, **k))
    answer = {"events": [{"event": "slot", "timestamp": None, "name": "options", "value": []},
                         {"event": "slot", "timestamp": None, "name": "service_code", "value": "P1"},
                         {"event": "followup", "timestamp": None, "name": "filing_form"}],
              "responses": [{"text": "【普通护照签发】收费标准", "buttons": [], "elements": [], "template": None,
                             "custom": {"type": "service_answer", "card": {"fee": "免费"}}}]}
    assert RemoteAction._validate_action_result(None, answer) is True
    assert walks == []  # the fast path decided
    with pytest.raises(jsonschema.ValidationError):
        RemoteAction._validate_action_result(None, {"events": [{"event": "slot", "value": 1}]})
    assert walks  # an invalid response: jsonschema's verdict, and its error message


def _values(rng, depth=0):
    """Random JSON-like values, with the edge cases of JSON Schema's types (bools, 1.0, None)."""
    leaves = [None, True, False, 0, 1, 1.0, 2.5, -3, "", "fee", "slot", "bot", "action", "user", "aspect"]
    if depth > 2 or rng.random() < 0.4:
        return rng.choice(leaves)
    if rng.random() < 0.5:
        return [_values(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = ["event", "name", "value", "text", "data", "timestamp", "metadata", "policy", "confidence",
            "entities", "entity", "start", "end", "hide_rule_turn", "action_text", "events", "responses"]
    return {rng.choice(keys): _values(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _mutants(rng, value):
    """A valid value with one part changed: a key dropped, a value swapped for a random one."""
    if isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        changed = dict(value)
        if rng.random() < 0.3:
            del changed[key]
        else:
            changed[key] = _mutants(rng, value[key]) if rng.random() < 0.5 else _values(rng)
        return changed
    if isinstance(value, list) and value:
        index = rng.randrange(len(value))
        return [*value[:index], _mutants(rng, value[index]), *value[index + 1:]]
    return _values(rng)


def test_the_fast_validation_path_accepts_only_what_jsonschema_accepts():
    import copy
    import random

    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    from bot.rasa_server import accepts

    schema = RemoteAction.action_response_format_spec()
    outer = copy.deepcopy(schema)
    variants = outer["properties"]["events"]["items"].pop("oneOf")
    schemas = [outer, *variants, {"type": "integer"}, {"type": ["number", "null"]}, {"const": "x"},
               {"type": "array", "items": {"type": "object", "required": ["a"]}}]
    compiled = [(s, accepts(s)) for s in schemas]
    assert sum(p is not None for _, p in compiled) >= len(variants)  # all but the user event's schema
    assert accepts({"oneOf": []}) is None and accepts({"type": "string", "pattern": "x"}) is None
    samples = [e for r in _responses() if isinstance(r, dict) and isinstance(r.get("events"), list)
               for e in r["events"]] + [r for r in _responses()]
    rng = random.Random(3)
    agreed = fast = 0
    for schema_, predicate in compiled:
        if predicate is None:
            continue
        validator = validator_for(schema_)(schema_)
        values = [*samples, *(_values(rng) for _ in range(400)), *(_mutants(rng, rng.choice(samples)) for _ in range(400))]
        for value in values:
            if predicate(value):
                fast += 1
                assert validator.is_valid(value), (schema_, value)  # the fast path never accepts wrongly
            agreed += 1
    assert fast > 200  # and it does accept: most valid events need no jsonschema walk
    # The integer edge case: JSON Schema takes 1.0 as an integer; the predicate leaves it to jsonschema.
    assert accepts({"type": "integer"})(1.0) is False and validator_for({})({"type": "integer"}).is_valid(1.0)


# -- the graph runner: Rasa's predictions, without dask and without TED when it cannot win -----

@pytest.fixture(scope="module")
def predict_graph(tmp_path_factory):
    from rasa.engine.loader import load_predict_graph_runner
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.engine.storage.local_model_storage import LocalModelStorage

    from bot.training import MODEL_PATH, train

    train(force=False)
    metadata, runner = load_predict_graph_runner(tmp_path_factory.mktemp("model"), MODEL_PATH, LocalModelStorage,
                                                 DaskGraphRunner)
    return metadata, runner


def _story_trackers(domain):
    """Trackers before every action of the product's stories and rules, and the same with the
    last user intent swapped for another one (off the script, where TED has its say)."""
    import random

    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.generator import TrainingDataGenerator
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.core.training_data.loading import load_data_from_files
    from rasa.shared.core.training_data.structures import StoryGraph

    from database.engine import PROJECT_ROOT

    files = [str(PROJECT_ROOT / "data" / name) for name in ("stories.yml", "rules.yml")]
    steps = load_data_from_files(files, domain)
    trackers = TrainingDataGenerator(StoryGraph(steps), domain, augmentation_factor=0).generate()
    rng = random.Random(7)
    intents = sorted(domain.intents)
    for tracker in trackers:
        events = list(tracker.events)
        for index, event in enumerate(events):
            if index and isinstance(event, ActionExecuted) and event.action_name:
                prefix = events[:index]
                yield DialogueStateTracker.from_events("t", prefix, domain.slots)
                users = [i for i, e in enumerate(prefix) if isinstance(e, UserUttered)]
                if users:
                    swapped = list(prefix)
                    original = swapped[users[-1]]
                    swapped[users[-1]] = UserUttered(original.text, {"name": rng.choice(intents), "confidence": 1.0})
                    yield DialogueStateTracker.from_events("t", swapped, domain.slots)


def test_the_graph_runner_predicts_what_rasas_dask_runner_predicts(predict_graph):
    from rasa.engine.runner.dask import DaskGraphRunner

    metadata, runner = predict_graph
    rasas_run = DaskGraphRunner.run.__wrapped__
    assert rasas_run is not DaskGraphRunner.run
    target = metadata.core_target
    compared, ted_decided, ted_skipped = 0, 0, 0
    ted_calls = []
    ted_node = next(n for n in metadata.predict_schema.nodes if "TEDPolicy" in n)
    original_call = type(runner._instantiated_nodes[ted_node]).__call__

    for tracker in _story_trackers(metadata.domain):
        rasa_prediction = rasas_run(runner, inputs={"__tracker__": tracker}, targets=[target])[target]
        before = len(ted_calls)
        node = runner._instantiated_nodes[ted_node]
        node.__class__ = type("Counted", (type(node),), {
            "__call__": lambda self, *a: ted_calls.append(1) or original_call(self, *a)})
        try:
            ours = runner.run(inputs={"__tracker__": tracker}, targets=[target])[target]
        finally:
            node.__class__ = type(node).__mro__[1]
        assert ours.probabilities.index(ours.max_confidence) == rasa_prediction.probabilities.index(
            rasa_prediction.max_confidence), tracker.events
        assert (ours.policy_name, ours.max_confidence, ours.policy_priority, ours.events,
                ours.is_no_user_prediction, ours.is_end_to_end_prediction) == (
            rasa_prediction.policy_name, rasa_prediction.max_confidence, rasa_prediction.policy_priority,
            rasa_prediction.events, rasa_prediction.is_no_user_prediction, rasa_prediction.is_end_to_end_prediction)
        compared += 1
        ted_skipped += len(ted_calls) == before
        ted_decided += rasa_prediction.policy_name == "TEDPolicy"
    # Both cases were met: TED skipped (rules certain) and TED run, sometimes winning.
    assert compared > 100 and ted_skipped > 50 and compared - ted_skipped > 10 and ted_decided > 0, (
        compared, ted_skipped, ted_decided)


def test_the_rule_lookup_finds_the_rules_rasa_finds(predict_graph):
    """The rules applicable to each conversation's states (both lookups a prediction makes: the
    rules, and the unhappy paths of forms), over every turn of the stories and rules and the same
    with the last intent swapped, and over long histories of those turns joined together."""
    from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
    from rasa.shared.core.trackers import DialogueStateTracker

    metadata, runner = predict_graph
    rasas = RulePolicy._get_possible_keys.__wrapped__
    assert rasas is not RulePolicy._get_possible_keys
    rule = next(node._component for node in runner._instantiated_nodes.values()
                if isinstance(getattr(node, "_component", None), RulePolicy))
    domain = metadata.domain
    trackers = list(_story_trackers(domain))
    joined = [DialogueStateTracker.from_events("t", [e for t in trackers[i:i + 6] for e in t.events], domain.slots)
              for i in range(0, len(trackers), 25)]
    compared, found = 0, 0
    for tracker in trackers + joined:
        for use_text in (False, True):
            states = rule._prediction_states(tracker, domain, use_text, rule_only_data=rule._get_rule_only_data())
            for lookup in (rule.lookup[RULES], rule.lookup[RULES_FOR_LOOP_UNHAPPY_PATH]):
                ours = rule._get_possible_keys(lookup, states)
                assert ours == rasas(rule, lookup, states), tracker.events
                compared += 1
                found += bool(ours)
    assert compared > 400 and found > 100, (compared, found)


def test_coo_hstack_is_scipys_hstack():
    import numpy as np
    import scipy.sparse

    from bot.rasa_server import coo_hstack

    rng = np.random.default_rng(3)
    cases = [
        (scipy.sparse.random(4, 7, density=0.3, format="coo", random_state=1, dtype=np.float32),
         scipy.sparse.random(4, 3, density=0.5, format="coo", random_state=2, dtype=np.float64)),
        (scipy.sparse.coo_matrix(rng.integers(0, 3, (1, 5))), scipy.sparse.coo_matrix((1, 9), dtype=np.float32)),
        (scipy.sparse.coo_matrix((3, 0)), scipy.sparse.random(3, 4, density=1.0, format="coo", random_state=4)),
        (scipy.sparse.random(2, 3, format="csr", density=0.5, random_state=5),
         scipy.sparse.random(2, 2, format="coo", density=0.5, random_state=6)),
    ]
    for left, right in cases:
        ours, scipys = coo_hstack(left, right), scipy.sparse.hstack([left, right])
        assert ours.format == scipys.format and ours.shape == scipys.shape and ours.dtype == scipys.dtype
        for attribute in ("data", "row", "col"):
            a, b = getattr(ours, attribute), getattr(scipys, attribute)
            assert a.dtype == b.dtype and np.array_equal(a, b), attribute
    with pytest.raises(ValueError):
        coo_hstack(scipy.sparse.coo_matrix((2, 2)), scipy.sparse.coo_matrix((3, 2)))


# -- the call to the action server: what the actions read is unchanged --------------------------

def _conversation_tracker():
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.training import DOMAIN

    domain = Domain.load(str(DOMAIN))
    card = {"custom": {"type": "service_answer", "service": {"code": "P1", "name": "普通护照签发", "department": "出入境"},
                       "aspect": "materials", "card": {"materials": ["居民身份证"] * 20}},
            "buttons": [{"title": "有帮助", "payload": "/rate_answer"}]}

    def user(text, intent, channel):
        return UserUttered(text, {"name": intent, "confidence": 0.9},
                           [{"entity": "aspect", "value": "fee", "start": 0, "end": 2}],
                           {"text": text, "intent": {"name": intent, "confidence": 0.9}, "intent_ranking": [
                               {"name": intent, "confidence": 0.9}, {"name": "greet", "confidence": 0.1}]},
                           input_channel=channel)

    events = [ActionExecuted("action_listen"), user("护照怎么办", "ask_service", "rest"),
              ActionExecuted("action_answer"), SlotSet("service_code", "P1"), SlotSet("aspect", "overview"),
              BotUttered("【普通护照签发】办事指南", card, {"model_id": "m"}), ActionExecuted("action_listen"),
              user("我要办护照", "apply_service", "webchat"), ActionExecuted("action_start_filing"),
              BotUttered("办理须知", card), ActiveLoop("filing_form"), ActionExecuted("filing_form"),
              SlotSet("requested_slot", "filing_consent"), BotUttered("请问您是否同意？", card),
              ActionExecuted("action_listen"), user("要多久", "ask_aspect", "wechat"),
              SlotSet("filing_consent", "要多久")]
    return DialogueStateTracker.from_events("citizen-1", events, domain.slots), domain


def _action_calls(name):
    """The conversation's tracker, the domain, a remote action of that name, and the call Rasa
    would send it beside the one the Rasa server sends."""
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    tracker, domain = _conversation_tracker()
    action = RemoteAction(name, EndpointConfig("http://localhost:1", enable_selective_domain=True))
    full = RemoteAction._action_call_format.__wrapped__(action, tracker, domain)
    return tracker, domain, action, full, action._action_call_format(tracker, domain)


def test_the_action_server_gets_a_slim_tracker_that_reads_the_same():
    import json

    from rasa.core.actions.action import RemoteAction
    from rasa_sdk import Tracker

    from actions.common import transcript
    from bot.rasa_server import slim_action_call
    from rasa.shared.core.events import UserUttered

    tracker, domain, action, full, slim = _action_calls("action_handoff")
    # What slim_action_call makes of Rasa's call, the events' dicts kept from the call before.
    assert slim == slim_action_call(full)
    assert action._action_call_format(tracker, domain) == slim
    tracker.update(UserUttered("多少钱", {"name": "ask_aspect", "confidence": 0.8}, [], {"text": "多少钱"}))
    again = action._action_call_format(tracker, domain)
    assert again == slim_action_call(RemoteAction._action_call_format.__wrapped__(action, tracker, domain))
    assert "parse_data" not in again["tracker"]["events"][-2] and again["tracker"]["events"][-1]["parse_data"]
    assert again["tracker"]["events"][3] is slim["tracker"]["events"][3]  # not built again
    assert slim["next_action"] == "action_handoff" and slim["sender_id"] == "citizen-1"
    assert len(json.dumps(slim["tracker"]["events"])) < len(json.dumps(full["tracker"]["events"])) / 2
    before, after = Tracker.from_dict(full["tracker"]), Tracker.from_dict(slim["tracker"])
    assert after.latest_message == before.latest_message and after.latest_message["intent"]["name"] == "ask_aspect"
    assert after.slots == before.slots
    assert after.get_latest_input_channel() == before.get_latest_input_channel() == "wechat"
    assert after.active_loop == before.active_loop and after.active_loop["name"] == "filing_form"
    assert transcript(after) == transcript(before) and len(transcript(after)) == 6
    assert [e["event"] for e in after.events] == [e["event"] for e in before.events]
    assert [e.get("timestamp") for e in after.applied_events()] == [e.get("timestamp") for e in before.applied_events()]
    # What is left out: old parse data and the bot messages' attachments; the caller's dict untouched.
    assert all("parse_data" not in e for e in after.events[:-2] if e["event"] == "user")
    assert after.events[-2]["parse_data"] == before.events[-2]["parse_data"]  # the latest message keeps it
    assert all(e["data"] == {} for e in after.events if e["event"] == "bot")
    assert all(e["data"] for e in before.events if e["event"] == "bot")


def test_an_action_that_reads_only_the_current_turn_gets_its_events_and_reads_the_same():
    import json

    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa_sdk import Tracker

    from bot.rasa_server import slim_action_call

    tracker, domain, action, full, slim = _action_calls("validate_filing_form")
    assert slim == slim_action_call(full)
    events = slim["tracker"]["events"]
    # From the latest user message on: the message (with its parse data) and the slot to validate.
    assert [e["event"] for e in events] == ["user", "slot"] and events[0]["parse_data"]
    assert events == [e for e in full["tracker"]["events"][-2:]]
    assert slim["domain"] == full["domain"]  # a form validation action asks for the domain
    assert len(json.dumps(slim["tracker"])) < len(json.dumps(full["tracker"])) / 2
    before, after = Tracker.from_dict(full["tracker"]), Tracker.from_dict(slim["tracker"])
    assert after.latest_message == before.latest_message
    assert after.slots == before.slots and after.current_slot_values() == before.current_slot_values()
    assert after.slots_to_validate() == before.slots_to_validate() == {"filing_consent": "要多久"}
    assert after.get_latest_input_channel() == before.get_latest_input_channel() == "wechat"
    assert after.active_loop == before.active_loop and after.active_loop["name"] == "filing_form"
    assert after.latest_action_name == before.latest_action_name and after.is_paused() == before.is_paused()
    assert after.followup_action == before.followup_action
    # The next turn: only its own events again, the earlier ones' dicts kept on them.
    tracker.update(UserUttered("多少钱", {"name": "ask_aspect", "confidence": 0.8}, [], {"text": "多少钱"},
                               input_channel="rest"))
    tracker.update(SlotSet("filing_consent", "多少钱"))
    again = action._action_call_format(tracker, domain)
    assert again == slim_action_call(RemoteAction._action_call_format.__wrapped__(action, tracker, domain))
    assert [e.get("text") or e.get("value") for e in again["tracker"]["events"]] == ["多少钱", "多少钱"]
    assert Tracker.from_dict(again["tracker"]).get_latest_input_channel() == "rest"
    # With no user message (a conversation opened by the bot) an action gets every event.
    opening, _ = _conversation_tracker()
    from rasa.shared.core.trackers import DialogueStateTracker
    bare = DialogueStateTracker.from_events("citizen-2", [e for e in opening.events if not isinstance(e, UserUttered)],
                                            domain.slots)
    call = action._action_call_format(bare, domain)
    assert len(call["tracker"]["events"]) == len(bare.events)


def test_an_actions_events_are_copied_for_the_debug_log_only_when_it_is_logged(monkeypatch):
    import copy
    import logging

    import structlog
    from rasa.core import processor as rasa_processor
    from rasa.core.actions.action import RemoteAction
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.shared.core.events import ActionExecutionRejected, BotUttered, SlotSet

    tracker, domain = _conversation_tracker()
    processor = rasa_processor.MessageProcessor.__new__(rasa_processor.MessageProcessor)
    processor.domain = domain
    action = RemoteAction("action_answer", None)
    prediction = PolicyPrediction([1.0], "RulePolicy", events=[SlotSet("aspect", "fee")])
    answer = [BotUttered("【普通护照签发】收费标准", {"custom": {"type": "service_answer", "card": {"fee": "免费"}}}),
              SlotSet("service_code", "P2")]
    patched = rasa_processor.MessageProcessor._log_action_on_tracker
    original = patched.__wrapped__

    records = []

    class Recorder:
        def debug(self, event, **kw):
            records.append((event, kw))

    copies = []
    real_deepcopy = copy.deepcopy
    monkeypatch.setattr(copy, "deepcopy", lambda value, *a: copies.append(value) or real_deepcopy(value, *a))
    monkeypatch.setattr(rasa_processor, "structlogger", Recorder())
    saved = structlog.get_config()
    try:
        for level in (logging.INFO, logging.DEBUG):
            structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(level))
            for events in (answer, [ActionExecutionRejected("action_answer")], None):
                ours, rasas = tracker.copy(), tracker.copy()
                copies.clear(), records.clear()
                patched(processor, ours, action, None if events is None else list(events), prediction)
                ours_copies, ours_records = list(copies), list(records)
                copies.clear(), records.clear()
                original(processor, rasas, action, None if events is None else list(events), prediction)
                untimed = lambda t: [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in t.events]
                assert untimed(ours) == untimed(rasas) and len(ours.events) > len(tracker.events)
                assert ours.current_slot_values() == rasas.current_slot_values()
                if level == logging.INFO:  # the records are dropped: nothing copied for them
                    assert ours_copies == [] and len(copies) >= 1
                else:  # the records are logged: the same records, copies made as Rasa does
                    assert ours_records == records and ours_copies == copies and records
    finally:
        structlog.configure(**saved)


async def test_a_remote_action_runs_on_the_tracker_as_it_ran_on_rasas_copy(monkeypatch):
    import json

    from rasa.core import processor as rasa_processor
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.core.policies.policy import PolicyPrediction
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    calls = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        calls.append(body)
        if body["next_action"] == "action_reject":
            return web.json_response({"error": "no", "action_name": "action_reject"}, status=400)
        return web.json_response({
            "events": [{"event": "slot", "name": "aspect", "value": "fee", "timestamp": None}],
            "responses": [{"text": "【普通护照签发】收费标准：免费", "custom": {"type": "service_answer"}}]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/webhook"
    patched = rasa_processor.MessageProcessor._run_action
    original = patched.__wrapped__
    copies = []
    real_copy = DialogueStateTracker.copy
    monkeypatch.setattr(DialogueStateTracker, "copy", lambda self: copies.append(1) or real_copy(self))
    try:
        tracker, domain = _conversation_tracker()
        processor = rasa_processor.MessageProcessor.__new__(rasa_processor.MessageProcessor)
        processor.domain = domain
        nlg = TemplatedNaturalLanguageGenerator(domain.responses)
        untimed = lambda t: [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in t.events]  # noqa: E731
        for name, policy_events in [("action_answer", []), ("action_reject", []), ("action_answer", [SlotSet("aspect", "materials")])]:
            results = []
            for run in (original, patched):
                calls.clear(), copies.clear()
                mine = real_copy(tracker)
                channel = CollectingOutputChannel()
                prediction = PolicyPrediction([1.0], "RulePolicy", events=list(policy_events))
                again = await run(processor, RemoteAction(name, EndpointConfig(url)), mine, channel, nlg, prediction)
                call = calls[0]
                call["tracker"].pop("latest_event_time", None)  # policy events are stamped when applied
                for event in call["tracker"]["events"]:
                    event.pop("timestamp", None)
                results.append((again, untimed(mine), channel.messages, json.dumps(call, sort_keys=True), len(copies)))
            (a, events_a, sent_a, call_a, copies_a), (b, events_b, sent_b, call_b, copies_b) = results
            assert (a, events_a, sent_a, call_a) == (b, events_b, sent_b, call_b), name
            assert copies_a == 1 and copies_b == (1 if policy_events else 0)
            rejected = any(e.get("event") == "action_execution_rejected" for e in events_b)
            assert rejected == (name == "action_reject")
            assert [m.get("text") or m.get("custom") for m in sent_b] == (
                [] if rejected else ["【普通护照签发】收费标准：免费", {"type": "service_answer"}])
    finally:
        await close_shared_sessions()
        await runner.cleanup()


def test_only_the_listed_actions_read_the_conversation_before_the_current_turn():
    """A tripwire: an action reading tracker events further back than the latest user message
    must be in ACTIONS_READING_HISTORY, or the Rasa server sends it only the current turn."""
    import ast
    from pathlib import Path

    from bot.rasa_server import ACTIONS_READING_HISTORY

    root = Path(__file__).resolve().parents[1]
    history_readers = {"events", "applied_events", "events_after_latest_restart", "idx_after_latest_restart",
                       "get_last_event_for", "last_executed_action_has", "is_paused", "transcript"}
    readers = set()
    for path in [*sorted((root / "actions").glob("*.py")), *sorted((root / "dialogue").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            # tracker.events, tracker.applied_events(), ...: attributes; transcript(tracker) by name too.
            if (isinstance(node, ast.Attribute) and node.attr in history_readers) or (
                    isinstance(node, (ast.Name, ast.FunctionDef)) and getattr(node, "id", getattr(node, "name", None)) == "transcript"):
                readers.add(path.relative_to(root).as_posix())
    # actions/common.py defines transcript(); actions/handoff.py is action_handoff's module.
    assert readers == {"actions/common.py", "actions/handoff.py"}, readers
    assert ACTIONS_READING_HISTORY == {"action_handoff"}
    from actions.handoff import ActionHandoff
    assert ActionHandoff().name() in ACTIONS_READING_HISTORY


# -- the policies' state history: replayed once per tracker history -----------------------------

def _rule_only_data(runner):
    from rasa.core.policies.rule_policy import RulePolicy

    rule = next(node._component for node in runner._instantiated_nodes.values()
                if isinstance(getattr(node, "_component", None), RulePolicy))
    return rule._get_rule_only_data()


def test_the_state_history_is_rasas_for_every_tracker_and_setting(predict_graph):
    import copy

    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, Restarted, SlotSet, UserUttered, UserUtteranceReverted

    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa_server import PRIOR_STEPS_ATTRIBUTE

    metadata, runner = predict_graph
    domain = metadata.domain
    rasas = Domain.states_for_tracker_history.__wrapped__
    assert rasas is not Domain.states_for_tracker_history
    rule_only = _rule_only_data(runner)
    assert rule_only and (rule_only.get("rule_only_slots") or rule_only.get("rule_only_loops"))
    settings = [dict(omit_unset_slots=o, ignore_rule_only_turns=i, rule_only_data=r)
                for o in (False, True) for i in (False, True) for r in (None, rule_only)]
    def with_hidden_turns(trackers):
        """Each tracker, then the same with the rule policy's mark on every other action: a turn
        only rules know of, hidden from the ML policies (predicted conversations carry it)."""
        from rasa.shared.core.trackers import DialogueStateTracker

        for tracker in trackers:
            yield tracker
            actions = 0
            events = []
            for event in tracker.events:
                if isinstance(event, ActionExecuted) and event.action_name != "action_listen":
                    actions += 1
                    if actions % 2:
                        event = ActionExecuted(event.action_name, event.policy, event.confidence,
                                               timestamp=event.timestamp, hide_rule_turn=True)
                events.append(event)
            if actions:
                yield DialogueStateTracker.from_events(tracker.sender_id, events, domain.slots)

    compared, hidden = 0, 0
    for tracker in with_hidden_turns(_story_trackers(domain)):
        for setting in settings:
            expected = rasas(domain, tracker, **setting)
            for _ in range(2):  # the second from the kept steps
                ours = domain.states_for_tracker_history(tracker, **setting)
                assert ours == expected, (setting, tracker.events)
                ours[-1].clear()  # a caller changing what it got changes nothing kept
                if len(ours) > 1:
                    ours[0].get("slots", {}).clear()
                    ours[0].get("prev_action", {}).clear()
            compared += 1
            hidden += setting["ignore_rule_only_turns"] and len(expected) < len(rasas(domain, tracker))
        # Events appended to the same tracker: only those replayed, on the kept replayed tracker.
        # (On a tracker of its own: the generator builds the next one from this one's events.)
        tracker = DialogueStateTracker.from_events(tracker.sender_id, list(tracker.events), domain.slots)
        domain.states_for_tracker_history(tracker)  # kept for omit_unset_slots=False, as settings[:4]
        replayed = tracker.__dict__[PRIOR_STEPS_ATTRIBUTE][2]
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered("谢谢", {"name": "thank", "confidence": 1.0}))
        tracker.update(SlotSet("aspect", "fee"))
        for setting in settings[:4]:
            assert domain.states_for_tracker_history(tracker, **setting) == rasas(domain, tracker, **setting)
        assert tracker.__dict__[PRIOR_STEPS_ATTRIBUTE][2] is replayed
        tracker.update(ActionExecuted("action_answer", hide_rule_turn=True))
        tracker.update(ActionExecuted("action_listen"))
        for setting in settings:
            assert domain.states_for_tracker_history(tracker, **setting) == rasas(domain, tracker, **setting)
        # Events that change which earlier events apply: the history replayed again, whole.
        for changing in (UserUtteranceReverted(), Restarted()):
            tracker.update(changing)
            for setting in settings[:2]:
                assert domain.states_for_tracker_history(tracker, **setting) == rasas(domain, tracker, **setting)
        clone = copy.deepcopy(tracker)
        assert domain.states_for_tracker_history(clone) == rasas(domain, tracker)
    assert compared > 800 and hidden > 0, (compared, hidden)


def test_a_copied_slot_is_copy_copys():
    import copy

    from rasa.shared.core.slots import AnySlot, BooleanSlot, CategoricalSlot, FloatSlot, ListSlot, TextSlot

    slots = [TextSlot("a", [], initial_value="x"), ListSlot("b", [], initial_value=[1]), BooleanSlot("c", []),
             FloatSlot("d", [], min_value=1, max_value=5), CategoricalSlot("e", [], values=["p", "q"]), AnySlot("f", [])]
    for slot in slots:
        slot.value = slot.initial_value
        copied = copy.copy(slot)
        assert type(copied) is type(slot) and copied is not slot and copied.__dict__ == slot.__dict__
        copied.value = "changed"
        assert slot.value != "changed"
    assert copy.copy(slots[1]).initial_value is slots[1].initial_value  # shallow, as copy.copy is


# -- DIET and TED: the graph called directly ------------------------------------------------------

def test_models_predict_what_their_tf_function_predicts(predict_graph):
    import numpy as np
    from rasa.core.channels.channel import UserMessage
    from rasa.utils.tensorflow.models import RasaModel

    metadata, runner = predict_graph
    rasas = RasaModel._rasa_predict.__wrapped__
    assert rasas is not RasaModel._rasa_predict
    batches = []

    def spy(self, batch_in):
        batches.append((self, batch_in))
        return rasas(self, batch_in)

    patched = RasaModel._rasa_predict
    RasaModel._rasa_predict = spy
    try:
        for text in ["办护照要带什么", "要多久", "那港澳通行证呢？", "我要办居住证", "谢谢", "zzz", "第二个", "转人工"]:
            runner.run(inputs={"__message__": [UserMessage(text)]}, targets=[metadata.nlu_target])
        ted = next(n for n in metadata.predict_schema.nodes if "TEDPolicy" in n)
        policy = runner._instantiated_nodes[ted]._component
        for tracker in list(_story_trackers(metadata.domain))[::10]:
            policy.predict_action_probabilities(tracker, metadata.domain)
    finally:
        RasaModel._rasa_predict = patched
    kinds = {type(model).__name__ for model, _ in batches}
    assert {"DIET", "TED"} <= kinds, kinds

    def same(a, b):
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if a is None or b is None:
            return a is b
        return np.array_equal(np.asarray(a), np.asarray(b)) and np.asarray(a).dtype == np.asarray(b).dtype

    for model, batch in batches:
        assert same(RasaModel._rasa_predict(model, batch), rasas(model, batch)), type(model).__name__
        assert model.__dict__.get("_onewindow_graph") is not None  # the direct path was taken


async def test_a_message_passes_the_arrival_gate_before_rasa_handles_it(monkeypatch):
    """The patched MessageProcessor.handle_message enters the gate (bot/arrival_order.py) before
    any of Rasa's handling: a gate that refuses stops the message before Rasa touches it (the
    processor here is None, which Rasa's own handling would fail on)."""
    from rasa.core.processor import MessageProcessor

    from bot.arrival_order import ArrivalGate

    class Refused(Exception):
        pass

    async def enter(self):
        raise Refused

    monkeypatch.setattr(ArrivalGate, "enter", enter)
    assert MessageProcessor.handle_message.__wrapped__ is not None  # the patch is in place
    with pytest.raises(Refused):
        await MessageProcessor.handle_message(None, object())
