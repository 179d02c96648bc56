"""The Rasa server's entry point: `python -m bot.rasa_server run ...` is `rasa run ...` with fixes
for hot paths of Rasa 3.6.21 that cost most of its CPU per turn under load (profiled with
py-spy; docs/conversation.md, "Speed"):

- every custom action's response is checked with `jsonschema.validate()`, which first validates
  the schema itself against the JSON Schema meta-schema on every call, then tries each event
  against all 23 event schemas; the fix builds the validators once and checks each event against
  the schema for its own type (the same verdict for every response), and a response whose parts
  pass predicates compiled from the schema (true only of what it accepts: `accepts`) skips
  jsonschema's generic walk altogether;
- every action's events (a bot message's card included) are deep-copied for a debug log record
  that Rasa's default log level drops; the fix copies them only when the record is logged;
- every action runs on a copy of the tracker (every event replayed), kept so that the policy's
  events can be discarded when the action is rejected; a remote action only reads the tracker,
  so with no policy events it runs on the tracker itself;
- every event read from the tracker store or an action looks its class up by walking all Event
  subclasses (`all_subclasses`, recursive); the fix keeps a name-to-class table, rebuilt when a
  name is missing (so a class imported later is still found);
- every call to the action server opens a new HTTP client session, so a new TCP connection, on
  both sides; the fix keeps one client session per event loop with keep-alive connections, closed
  by the client after 2 s idle (before the action server's 5 s keep-alive timeout, so a request
  never goes out on a connection the server is closing);
- every message and every action prediction runs the model's graph through dask, which rebuilds
  the task graph, walks the schema's dependencies without memo and formats the inputs (the whole
  tracker) into a debug message that is not logged; the fix runs the same nodes in an order
  computed once per set of targets;
- every action prediction runs TED (a third of a turn's CPU) even when the rule policy has
  already predicted with full confidence, which TED, lower in priority, can never outvote; the fix
  gives TED's node an all-zero prediction then (only for a TED that predicts from intents, never
  after a rejected action, whose probability the ensemble zeroes);
- every message's sparse features (four featurizers) are joined with scipy's generic `bmat`;
  the fix joins two COO matrices directly (the same matrix, dtypes and entry order);
- every action prediction has the rule and memoization policies each replay the conversation's
  history into dialogue states (`generate_all_prior_trackers`: a tracker copy, every slot copied,
  every event applied again), five times a turn over the same events; the fix replays it once per
  tracker history and derives each call's states from those steps (fresh dicts for every caller),
  and for the turn's second prediction replays only the events the action appended;
- every tracker copies each slot of the domain with `copy.copy`, which goes through
  `__reduce_ex__`; the fix gives slots a `__copy__` that does the same shallow copy directly;
- every action prediction has the rule policy test every rule against every state of the
  conversation's history, each test reversing the rule's states again, although no rule is longer
  than a few states; the fix keeps each rule's reversed states and stops at the longest rule left
  (the same rules found);
- every message's DIET prediction goes through tf.function's call path, which canonicalises the
  arguments and looks the graph up again (1.8 of DIET's 6.3 ms); the fix calls the one graph the
  function holds (it has an input signature) with the batch converted to its dtypes;
- once the model is loaded, the garbage collector's oldest-generation collections walk all of it
  (about 730,000 objects; 200-650 ms each, every few hundred turns, stalling every conversation);
  the fix settles the heap after loading (bot/heap.py: collect once, then `gc.freeze()`);
- under load the event loop runs every message its last poll found ready, in the order the
  sockets were reported, and about one message in ten waited two rounds behind later ones (p95 at
  twice p50); the fix starts one message per loop turn, the earliest first (bot/arrival_order.py).

All are behaviour-preserving and applied only to the pinned Rasa version they were written for.
One more changes what the action server is sent, for this product's actions: each call carried
the whole tracker, bot messages' attachments and every message's parse data included, as ASCII
JSON; it now leaves out what none of the actions reads (`slim_action_call`) and sends UTF-8, each
event's dict built once and kept on the event (events live on between turns, bot/tracker_store.py).
Only the actions that read the conversation before the current turn (ACTIONS_READING_HISTORY:
action_handoff, which copies the transcript for staff) get all of its events; the others get the
events from the latest user message on (a quarter of the bytes: on this 2-core machine a call
costs about 0.02 ms per KB at each end, and the action server's share runs on a cold core).

It also guards privacy for every channel: each incoming message's ID numbers are sealed before
Rasa sees them (connectors/privacy.py), and log records are masked (filings/identity.py).
"""
from __future__ import annotations

import itertools
import logging
import sys
from typing import Any, Dict, List, Optional, Text, Tuple, Type

log = logging.getLogger(__name__)

PATCHED_RASA_VERSION = "3.6.21"


_SIMPLE_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    # Stricter than JSON Schema (which also counts 1.0 an integer): a value refused here is
    # judged by jsonschema instead.
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
}
_SUBSET = {"type", "properties", "required", "items", "const"}


def accepts(schema: Dict[Text, Any]) -> Optional[Any]:
    """A predicate that is true only of instances the JSON schema accepts (false: undecided),
    built for schemas that use only type, properties, required, items and a string const; None
    for any other schema. It lets the common valid response skip jsonschema's generic walk."""
    if not isinstance(schema, dict) or set(schema) - _SUBSET:
        return None
    checks = []
    kinds = schema.get("type")
    if kinds is not None:
        names = [kinds] if isinstance(kinds, str) else kinds
        if not isinstance(names, list) or any(n not in _SIMPLE_TYPES for n in names):
            return None
        tests = [_SIMPLE_TYPES[n] for n in names]
        checks.append(lambda v: any(t(v) for t in tests))
    if "const" in schema:
        const = schema["const"]
        if not isinstance(const, str):
            return None
        checks.append(lambda v: isinstance(v, str) and v == const)
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return None
    properties = {}
    for name, sub in (schema.get("properties") or {}).items():
        predicate = accepts(sub)
        if predicate is None:
            return None
        properties[name] = predicate
    if required or properties:
        def object_check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True  # properties and required say nothing of non-objects
            return all(r in v for r in required) and all(p(v[k]) for k, p in properties.items() if k in v)
        checks.append(object_check)
    if "items" in schema:
        item = accepts(schema["items"])
        if item is None:
            return None
        checks.append(lambda v: not isinstance(v, list) or all(item(x) for x in v))
    return lambda v: all(c(v) for c in checks)


def _patch_action_result_validation() -> None:
    import copy

    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import DOCS_BASE_URL, RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)  # once, at start-up
    # Each event must match exactly one of the event schemas ("oneOf"), and each of those fixes
    # the "event" field to its own constant, which the outer schema requires: so an event is valid
    # exactly when it matches the schema for its "event" value. Checking that one instead of all
    # 23 gives the same verdict at a fraction of the cost.
    outer = copy.deepcopy(schema)
    event_schema = outer["properties"]["events"]["items"]
    variants = event_schema.pop("oneOf")
    kinds = [v.get("properties", {}).get("event", {}).get("const") for v in variants]
    if "event" in event_schema.get("required", []) and None not in kinds and len(set(kinds)) == len(kinds):
        whole = validator_class(outer)
        by_kind = {kind: validator_class(variant) for kind, variant in zip(kinds, variants)}
    else:  # a schema this reasoning does not hold for: validate it whole
        whole, by_kind = validator_class(schema), None

    # The fast path: predicates true only of what the validators accept (bot/rasa_server.accepts),
    # so a response they pass is valid; anything else goes through jsonschema for the verdict.
    fast_whole = accepts(outer) if by_kind is not None else None
    fast_by_kind = {kind: accepts(variant) for kind, variant in zip(kinds, variants)} if by_kind else {}

    def passes_fast(result: Any) -> bool:
        if fast_whole is None or not fast_whole(result):
            return False
        for event in result.get("events") or []:
            fast = fast_by_kind.get(event["event"])
            if fast is None or not fast(event):
                return False
        return True

    def check(result: Dict[Text, Any]) -> None:
        if passes_fast(result):
            return
        whole.validate(result)
        if by_kind is None:
            return
        for event in result.get("events") or []:
            variant = by_kind.get(event["event"])
            if variant is None:
                raise ValidationError(f"{event['event']!r} is not a known event type")
            variant.validate(event)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            check(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, make sure your response "
                f"from the Action endpoint is valid. For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = _validate_action_result


def _patch_event_lookup() -> None:
    import rasa.shared.utils.common
    from rasa.shared.core.events import Event

    table: Dict[Text, Type[Event]] = {}

    def rebuild() -> None:
        table.clear()
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            table.setdefault(cls.type_name, cls)  # the first match wins, as in Rasa's loop

    def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
        cls = table.get(type_name)
        if cls is None:
            rebuild()
            cls = table.get(type_name)
        if cls is not None:
            return cls
        if type_name == "topic":
            return None  # backwards compatibility, as in Rasa
        if default is not None:
            return default
        raise ValueError(f"Unknown event name '{type_name}'.")

    rebuild()
    Event.resolve_by_type = staticmethod(resolve_by_type)


CLIENT_KEEPALIVE_SECONDS = 2.0
_SESSIONS: Dict[tuple, Any] = {}  # (event loop, headers, auth) -> aiohttp.ClientSession


async def close_shared_sessions() -> None:
    """Close the shared client sessions of the running event loop."""
    import asyncio

    loop = id(asyncio.get_running_loop())
    for key in [k for k in _SESSIONS if k[0] == loop]:
        await _SESSIONS.pop(key).close()


def _patch_endpoint_sessions() -> None:
    import asyncio
    import os
    import ssl

    import aiohttp
    from rasa.shared.exceptions import FileNotFoundException
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, ClientResponseError, EndpointConfig, concat_url

    from bot import fastjson

    sessions = _SESSIONS

    def shared_session(self: EndpointConfig) -> aiohttp.ClientSession:
        """One session per event loop and endpoint identity (headers, basic auth)."""
        auth = self.basic_auth or {}
        key = (id(asyncio.get_running_loop()), tuple(sorted((self.headers or {}).items())),
               auth.get("username"), auth.get("password"))
        session = sessions.get(key)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                headers=self.headers,
                auth=aiohttp.BasicAuth(auth["username"], auth["password"]) if auth else None,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                # Chinese text as UTF-8, not \u escapes: a seventh smaller, and no escaping to do;
                # encoded with ujson (bot/fastjson.py).
                json_serialize=fastjson.dumps,
                connector=aiohttp.TCPConnector(keepalive_timeout=CLIENT_KEEPALIVE_SECONDS),
            )
            sessions[key] = session
        return session

    async def request(self: EndpointConfig, method: Text = "post", subpath: Optional[Text] = None,
                      content_type: Optional[Text] = "application/json", compress: bool = False,
                      **kwargs: Any) -> Optional[Any]:
        # Rasa 3.6.21's EndpointConfig.request, on the shared session instead of a new one.
        headers = {"Content-Type": content_type} if content_type else {}
        headers.update(kwargs.pop("headers", None) or {})
        headers.update(self.headers or {})
        sslcontext = None
        if self.cafile:
            try:
                sslcontext = ssl.create_default_context(cafile=self.cafile)
            except FileNotFoundError as e:
                raise FileNotFoundException(
                    f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
                ) from e
        async with shared_session(self).request(
            method, concat_url(self.url, subpath), headers=headers, params=self.combine_parameters(kwargs),
            compress=compress, ssl=sslcontext, **kwargs,
        ) as response:
            if response.status >= 400:
                raise ClientResponseError(response.status, response.reason, await response.content.read())
            try:
                return await response.json(loads=fastjson.loads)
            except aiohttp.ContentTypeError:
                return None

    EndpointConfig.request = request


# The actions that read the conversation before the current turn (tracker.events further back than
# the latest user message): action_handoff copies the transcript for staff. Every other action of
# this product reads the current turn only (its latest message, slots, form, the slots to validate,
# the channel), so it is sent the events from the latest user message on. A test fails when an
# action reads the history without being listed here (tests/test_rasa_server_patches.py).
ACTIONS_READING_HISTORY = frozenset({"action_handoff"})


def first_event_sent(action_name: Optional[Text], latest_user: int) -> int:
    """Where the events sent to an action begin: the first for an action that reads the history,
    else the latest user message (the first when there is none, latest_user = -1)."""
    return 0 if action_name in ACTIONS_READING_HISTORY else max(latest_user, 0)


def slim_action_call(payload: Dict[Text, Any]) -> Dict[Text, Any]:
    """The call to the action server without what none of this product's actions reads: the
    attachments (custom data, buttons) of bot messages and the parse data of every user message
    but the latest, which the tracker also carries as `latest_message`. Those were two thirds of
    the tracker sent on every action call. The events keep their order, types, texts, channels,
    times and metadata, so the actions' view (slots, latest message, form slots to validate,
    input channel, transcript) is unchanged. An action not in ACTIONS_READING_HISTORY gets the
    events from the latest user message on (all of them when there is none)."""
    state = payload.get("tracker") or {}
    events = state.get("events") or []
    latest_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    first = first_event_sent(payload.get("next_action"), latest_user)
    kept = [_slim(e, i == latest_user) for i, e in enumerate(events) if i >= first]
    return {**payload, "tracker": {**state, "events": kept}}


def _slim(event: Dict[Text, Any], latest_user: bool) -> Dict[Text, Any]:
    kind = event.get("event")
    if kind == "bot" and event.get("data"):
        return {**event, "data": {}}
    if kind == "user" and not latest_user and "parse_data" in event:
        return {k: v for k, v in event.items() if k != "parse_data"}
    return event


_SLIM = "_onewindow_slim"  # on an Event: (timestamp, metadata, its dict as slim_action_call sends it)


def slim_event(event: Any, latest_user: bool) -> Dict[Text, Any]:
    """One event as `slim_action_call` sends it. Kept on the event (a conversation's events live
    on between its turns, bot/tracker_store.py), so that each is turned into a dict once, not on
    every action call; the latest user message, which keeps its parse data, is built every time."""
    if latest_user:
        return event.as_dict()
    kept = event.__dict__.get(_SLIM)
    if kept is not None and kept[0] == event.timestamp and kept[1] is event.metadata:
        return kept[2]
    data = _slim(event.as_dict(), False)
    event.__dict__[_SLIM] = (event.timestamp, event.metadata, data)
    return data


def _patch_action_call() -> None:
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import EventVerbosity

    original = RemoteAction._action_call_format

    def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> Dict[Text, Any]:
        # Rasa 3.6.21's call format, its events as slim_action_call leaves them.
        state = tracker.current_state(EventVerbosity.NONE)
        events = tracker.events
        latest = next((i for i, e in zip(range(len(events) - 1, -1, -1), reversed(events)) if isinstance(e, UserUttered)), -1)
        first = first_event_sent(self._name, latest)
        state["events"] = [slim_event(e, i == latest) for i, e in enumerate(itertools.islice(events, first, None), first)]
        result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state,
                  "version": rasa.__version__}
        if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
            result["domain"] = domain.as_dict()
        return result

    _action_call_format.__wrapped__ = original  # type: ignore[attr-defined]
    RemoteAction._action_call_format = _action_call_format


def _patch_action_logging() -> None:
    import copy

    import structlog
    from rasa.core import processor
    from rasa.shared.core.events import ActionExecutionRejected

    try:
        from structlog._native import _nop
    except ImportError:  # another structlog: every record is taken to be logged
        _nop = None

    def debug_dropped() -> bool:
        """Whether structlog drops debug records: Rasa configures a filtering bound logger at its
        log level, whose `debug` is then structlog's no-op."""
        return _nop is not None and getattr(structlog.get_config().get("wrapper_class"), "debug", None) is _nop

    def _log_action_on_tracker(self: Any, tracker: Any, action: Any, events: Optional[List[Any]],
                               prediction: Any) -> None:
        # Rasa 3.6.21's, with the deep copies of the events made only for a debug record that is
        # logged: every action's events (a bot message's card included) were copied for nothing.
        if events is None:
            events = []
        quiet = debug_dropped()
        action_was_rejected_manually = any(isinstance(event, ActionExecutionRejected) for event in events)
        if not action_was_rejected_manually:
            if not quiet:
                processor.structlogger.debug("processor.actions.policy_prediction",
                                             prediction_events=copy.deepcopy(prediction.events))
            tracker.update_with_events(prediction.events, self.domain)
            tracker.update(action.event_for_successful_execution(prediction))
        if not quiet:
            processor.structlogger.debug("processor.actions.log", action_name=action.name(),
                                         rasa_events=copy.deepcopy(events))
        tracker.update_with_events(events, self.domain)

    _log_action_on_tracker.__wrapped__ = processor.MessageProcessor._log_action_on_tracker  # type: ignore[attr-defined]
    processor.MessageProcessor._log_action_on_tracker = _log_action_on_tracker


def _patch_remote_action_tracker() -> None:
    import rasa.core.actions.action
    from rasa.core import processor
    from rasa.core.actions.action import RemoteAction

    async def _run_action(self: Any, action: Any, tracker: Any, output_channel: Any, nlg: Any, prediction: Any) -> bool:
        # Rasa 3.6.21's, except that a remote action with no policy events to apply runs on the
        # tracker itself instead of a copy: Rasa copies it (replaying every event) so that policy
        # events can be discarded on a rejection, and a remote action only reads the tracker (its
        # call is built from the tracker's state and events; the events it returns are applied
        # below, to the tracker, as before).
        try:
            if isinstance(action, RemoteAction) and not prediction.events:
                temporary_tracker = tracker
            else:
                temporary_tracker = tracker.copy()
                temporary_tracker.update_with_events(prediction.events, self.domain)
            events = await action.run(output_channel, nlg, temporary_tracker, self.domain)
        except rasa.core.actions.action.ActionExecutionRejection:
            events = [processor.ActionExecutionRejected(action.name(), prediction.policy_name,
                                                        prediction.max_confidence)]
            tracker.update(events[0])
            return self.should_predict_another_action(action.name())
        except Exception:
            processor.logger.exception(
                f"Encountered an exception while running action '{action.name()}'."
                "Bot will continue, but the actions events are lost. "
                "Please check the logs of your action server for "
                "more information."
            )
            events = []

        self._log_action_on_tracker(tracker, action, events, prediction)

        if any(isinstance(e, processor.UserUttered) for e in events):
            processor.logger.debug(
                f"A `UserUttered` event was returned by executing "
                f"action '{action.name()}'. This will run the default action "
                f"'{processor.ACTION_EXTRACT_SLOTS}'."
            )
            tracker = await self.run_action_extract_slots(output_channel, tracker)

        if action.name() != processor.ACTION_LISTEN_NAME and not action.name().startswith(processor.UTTER_PREFIX):
            self._log_slots(tracker)

        await self.execute_side_effects(events, tracker, output_channel)

        return self.should_predict_another_action(action.name())

    _run_action.__wrapped__ = processor.MessageProcessor._run_action  # type: ignore[attr-defined]
    processor.MessageProcessor._run_action = _run_action


def _patch_graph_runner() -> None:
    from rasa.core.policies.ensemble import PolicyPredictionEnsemble
    from rasa.core.policies.ted_policy import TEDPolicy
    from rasa.engine.exceptions import GraphRunError
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import TEXT

    def _argument(arguments: Tuple[Any, ...], kind: type) -> Any:
        """A node's argument of a kind (arguments are (name, value) pairs)."""
        return next((a[1] for a in arguments if isinstance(a, tuple) and len(a) == 2 and isinstance(a[1], kind)), None)

    Step = Tuple[Text, Tuple[Text, ...], Tuple[Text, ...]]  # (node, its needs, policies that outrank it)

    def outranking(self: DaskGraphRunner, name: Text) -> Tuple[Text, ...]:
        """For a TED policy node that can only predict from intents: the other policies of its
        ensemble with a higher priority (TED's prediction cannot win when one of them is certain)."""
        nodes = self._graph_schema.nodes
        ted = getattr(self._instantiated_nodes[name], "_component", None)
        if not isinstance(ted, TEDPolicy) or nodes[name].fn != "predict_action_probabilities" \
                or ted.only_e2e or TEXT in ted.fake_features:
            return ()
        for node in nodes.values():
            if issubclass(node.uses, PolicyPredictionEnsemble) and name in node.needs.values():
                return tuple(
                    need for need in node.needs.values()
                    if need != name and need in nodes and nodes[need].fn == "predict_action_probabilities"
                    and getattr(getattr(self._instantiated_nodes[need], "_component", None), "priority", -1) > ted.priority
                )
        return ()

    def plan(self: DaskGraphRunner, targets: Tuple[Text, ...]) -> List[Step]:
        """The nodes the targets need, each after its own needs (computed once per target set)."""
        plans = self.__dict__.setdefault("_onewindow_plans", {})
        order = plans.get(targets)
        if order is None:
            nodes, order, seen = self._graph_schema.nodes, [], set()

            def visit(name: Text) -> None:
                if name in seen or name not in nodes:  # not a node: an input placeholder
                    return
                seen.add(name)
                needs = tuple(nodes[name].needs.values())
                for need in needs:
                    visit(need)
                order.append((name, needs, outranking(self, name)))

            for target in targets:
                visit(target)
            plans[targets] = order
        return order

    def cannot_win(step: Step, values: Dict[Text, Any], inputs: Tuple[Any, ...]) -> bool:
        """Whether the ensemble picks another policy whatever this one predicts: a higher-priority
        policy predicted with full confidence, or a prediction that overrules user-based ones."""
        higher = step[2]
        if not higher or any(h not in values for h in higher):
            return False
        tracker = _argument(inputs, DialogueStateTracker)
        if tracker is None or _argument(inputs, Domain) is None:
            return False
        last_action = next((e for e in reversed(tracker.events)
                            if isinstance(e, (ActionExecutionRejected, ActionExecuted))), None)
        if isinstance(last_action, ActionExecutionRejected):  # the ensemble zeroes the rejected action
            return False
        predictions = [values[h][1] for h in higher]
        return any(p.is_no_user_prediction or p.is_end_to_end_prediction or p.max_confidence >= 1.0
                   for p in predictions)

    def run(self: DaskGraphRunner, inputs: Optional[Dict[Text, Any]] = None,
            targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        # DaskGraphRunner.run of Rasa 3.6.21 without dask: the same nodes called with the same
        # arguments (an input is passed as (name, value), a node's result is (name, output)).
        run_targets = tuple(targets if targets else self._graph_schema.target_names)
        order = plan(self, run_targets)
        values: Dict[Text, Any] = {}
        for input_name, input_value in (inputs or {}).items():
            if isinstance(input_value, str) and any(input_value == step[0] for step in order):
                raise GraphRunError(
                    f"Input value '{input_value}' clashes with a node name. Make sure that none of the input "
                    f"names passed to the `run` method are the same as node names in the graph schema."
                )
            values[input_name] = (input_name, input_value)
        try:
            for step in order:
                name, needs, _ = step
                arguments = tuple(values.get(need, need) for need in needs)
                if cannot_win(step, values, arguments):
                    policy = self._instantiated_nodes[name]._component
                    domain = _argument(arguments, Domain)
                    values[name] = (name, policy._prediction(policy._default_predictions(domain)))
                    continue
                values[name] = self._instantiated_nodes[name](*arguments)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(values[target] for target in run_targets)

    run.__wrapped__ = getattr(DaskGraphRunner.run, "__wrapped__", DaskGraphRunner.run)  # Rasa's, for tests
    DaskGraphRunner.run = run


def coo_hstack(left: Any, right: Any) -> Any:
    """scipy.sparse.hstack([left, right]) for two COO matrices, without bmat's generic block
    handling (which converts both to COO again and builds an object array): the same matrix, the
    same dtypes, the same entry order. Anything else goes to scipy."""
    import numpy as np
    from scipy.sparse import coo_matrix, hstack, isspmatrix_coo
    from scipy.sparse._sputils import get_index_dtype, upcast

    if not (isspmatrix_coo(left) and isspmatrix_coo(right)) or left.shape[0] != right.shape[0]:
        return hstack([left, right])
    shape = (left.shape[0], left.shape[1] + right.shape[1])
    index = get_index_dtype(maxval=max(shape))
    data = np.concatenate([left.data, right.data]).astype(upcast(left.dtype, right.dtype), copy=False)
    row = np.concatenate([left.row.astype(index, copy=False), right.row.astype(index, copy=False)])
    col = np.concatenate([left.col.astype(index, copy=False), np.add(right.col, left.shape[1], dtype=index)])
    return coo_matrix((data, (row, col)), shape=shape)


def _patch_sparse_feature_combination() -> None:
    from rasa.shared.nlu.training_data.features import Features

    def _combine_sparse_features(self: Features, additional_features: Features) -> None:
        # Rasa 3.6.21's, with coo_hstack for scipy's hstack.
        if self.features.shape[0] != additional_features.features.shape[0]:
            raise ValueError(
                f"Cannot combine sparse features as sequence dimensions do not "
                f"match: {self.features.shape[0]} != "
                f"{additional_features.features.shape[0]}."
            )
        self.features = coo_hstack(self.features, additional_features.features)
        self._cached_fingerprint = None

    Features._combine_sparse_features = _combine_sparse_features


PRIOR_STEPS_ATTRIBUTE = "_onewindow_prior_steps"  # a tracker's replayed history: (fingerprint, steps, replayed)


def _prior_steps(domain: Any, tracker: Any, omit_unset_slots: bool) -> List[Tuple[Any, ...]]:
    """What Domain.states_for_tracker_history reads of each tracker `generate_all_prior_trackers`
    yields (its active state, whether the action hides a rule turn, the followup action, whether
    the latest action is the active loop, the latest action), computed once per tracker history
    and slot setting. The tracker keeps them while its events are the same: the same count and
    the same first and last event objects (events are only ever appended). When events were
    appended since (the action's, before the turn's second prediction), only those are replayed,
    on the replayed tracker kept with the steps, unless one of them restarts the history or
    reverts part of it (which changes which earlier events apply)."""
    events = tracker.events
    count = len(events)
    first, last = (events[0], events[-1]) if events else (None, None)
    kept = tracker.__dict__.get(PRIOR_STEPS_ATTRIBUTE)
    if kept is not None:
        (kept_domain, kept_omit, kept_count, kept_first, kept_last), steps, replayed = kept
        if kept_domain is domain and kept_omit == omit_unset_slots and kept_first is first:
            if kept_count == count and kept_last is last:
                return steps
            if 0 < kept_count < count and events[kept_count - 1] is kept_last:
                from rasa.shared.core.events import ActionReverted, Restarted, SessionStarted, UserUtteranceReverted

                added = list(itertools.islice(events, kept_count, None))
                changing = (ActionReverted, Restarted, SessionStarted, UserUtteranceReverted)
                if not any(isinstance(e, changing) for e in added):
                    # The last step kept was the tracker after every event: replaced.
                    steps = _replay(domain, steps[:-1], replayed, added, omit_unset_slots)
                    tracker.__dict__[PRIOR_STEPS_ATTRIBUTE] = ((domain, omit_unset_slots, count, first, last), steps, replayed)
                    return steps
    replayed = tracker.init_copy()
    steps = _replay(domain, [], replayed, tracker.applied_events(), omit_unset_slots)
    tracker.__dict__[PRIOR_STEPS_ATTRIBUTE] = ((domain, omit_unset_slots, count, first, last), steps, replayed)
    return steps


def _replay(domain: Any, steps: List[Tuple[Any, ...]], replayed: Any, events: Any,
            omit_unset_slots: bool) -> List[Tuple[Any, ...]]:
    """Rasa's generate_all_prior_trackers from `replayed` on: a step before each action, then
    one after every event; `replayed` is left after the last event."""
    from rasa.shared.core.events import ActionExecuted

    for event in events:
        if isinstance(event, ActionExecuted):
            steps.append(_step(domain, replayed, event.hide_rule_turn, omit_unset_slots))
        replayed.update(event)
    steps.append(_step(domain, replayed, False, omit_unset_slots))
    return steps


def _step(domain: Any, tr: Any, hide_rule_turn: bool, omit_unset_slots: bool) -> Tuple[Any, ...]:
    return (domain.get_active_state(tr, omit_unset_slots=omit_unset_slots), hide_rule_turn,
            bool(tr.followup_action), tr.latest_action_name == tr.active_loop_name,
            domain._get_prev_action_sub_state(tr))


def _fresh(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def _patch_state_history() -> None:
    from rasa.shared.core.constants import PREVIOUS_ACTION
    from rasa.shared.core.domain import Domain

    def states_for_tracker_history(self: Domain, tracker: Any, omit_unset_slots: bool = False,
                                   ignore_rule_only_turns: bool = False,
                                   rule_only_data: Optional[Dict[Text, Any]] = None) -> List[Dict[Text, Any]]:
        # Rasa 3.6.21's, over the steps replayed once per tracker history (_prior_steps) instead of
        # replaying the history on each of the five calls a turn makes (rule and memoization
        # policies, two predictions). Every call gets states of its own (dicts copied two levels
        # deep, as Rasa builds them anew), which callers may change.
        states: List[Dict[Text, Any]] = []
        last_ml_action_sub_state = None
        turn_was_hidden = False
        for active, hide_rule_turn, followup, latest_is_loop, prev_action in _prior_steps(self, tracker, omit_unset_slots):
            if ignore_rule_only_turns:
                if not turn_was_hidden:
                    last_ml_action_sub_state = _fresh(prev_action)
                if not followup and not latest_is_loop:
                    turn_was_hidden = hide_rule_turn
                if turn_was_hidden:
                    continue
            state = {kind: _fresh(sub_state) for kind, sub_state in active.items()}
            if ignore_rule_only_turns:
                self._remove_rule_only_features(state, rule_only_data)
                if states:
                    self._substitute_rule_only_user_input(state, states[-1])
                if last_ml_action_sub_state:
                    state[PREVIOUS_ACTION] = last_ml_action_sub_state
            states.append(self._clean_state(state))
        return states

    states_for_tracker_history.__wrapped__ = Domain.states_for_tracker_history  # type: ignore[attr-defined]
    Domain.states_for_tracker_history = states_for_tracker_history


def _patch_slot_copy() -> None:
    from rasa.shared.core.slots import Slot

    def __copy__(self: Slot) -> Slot:
        # What copy.copy does for a plain object (a new instance with the same attribute dict),
        # without the __reduce_ex__ round trip: each tracker copies every slot of the domain, and
        # the policies replay each turn's history several times.
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    Slot.__copy__ = __copy__


PATCHED_TENSORFLOW_VERSION = "2.12.0"


def _patch_model_prediction() -> None:
    import tensorflow as tf
    from keras.utils import tf_utils
    from rasa.shared.constants import DIAGNOSTIC_DATA
    from rasa.utils.tensorflow.models import RasaModel

    if tf.__version__ != PATCHED_TENSORFLOW_VERSION:
        log.warning("TensorFlow %s is not %s: models predict through tf.function", tf.__version__,
                    PATCHED_TENSORFLOW_VERSION)
        return
    original = RasaModel._rasa_predict

    def _rasa_predict(self: RasaModel, batch_in: Tuple[Any, ...]) -> Dict[Text, Any]:
        # Rasa 3.6.21's, calling the one graph its tf.function holds (built with an input
        # signature, so there is exactly one) directly with the batch converted to the signature's
        # dtypes: tf.function's own call path canonicalised the arguments and looked the graph up
        # again on every message, 1.8 of DIET's 6.3 ms. The first call, and any batch that does
        # not fit the signature, go through Rasa's own path.
        function = self._tf_predict_step
        if function is None or self._run_eagerly or not self.prepared_for_prediction:
            return original(self, batch_in)
        graph = self.__dict__.get("_onewindow_graph")
        if graph is None or graph[0] is not function:
            concrete = function.get_concrete_function()
            graph = (function, concrete, concrete.structured_input_signature[0][0])
            self.__dict__["_onewindow_graph"] = graph
        _, concrete, specs = graph
        if len(batch_in) != len(specs):
            return original(self, batch_in)
        tensors = [tf.convert_to_tensor(value, dtype=spec.dtype) for value, spec in zip(batch_in, specs)]
        if not all(spec.is_compatible_with(tensor) for spec, tensor in zip(specs, tensors)):
            return original(self, batch_in)
        self._training = False
        outputs = tf_utils.sync_to_numpy_or_python_type(concrete._call_flat(tensors, concrete.captured_inputs))
        if DIAGNOSTIC_DATA in outputs:
            outputs[DIAGNOSTIC_DATA] = self._empty_lists_to_none_in_dict(outputs[DIAGNOSTIC_DATA])
        return outputs

    _rasa_predict.__wrapped__ = original  # type: ignore[attr-defined]
    RasaModel._rasa_predict = _rasa_predict


def _patch_rule_lookup() -> None:
    import json

    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.constants import PREVIOUS_ACTION

    original = RulePolicy._get_possible_keys
    reversed_rules: Dict[Text, List[Dict[Text, Any]]] = {}  # rule key -> its states, latest first

    def _get_possible_keys(self: RulePolicy, lookup: Dict[Text, Text], states: List[Dict[Text, Any]]) -> set:
        # Rasa's filter, state by state from the latest, with the same test per rule and state
        # (_is_rule_applicable, inlined); it stops once no rule is left or every rule left is
        # shorter than the states looked at, which every later state then keeps.
        candidates = []
        for key in lookup:
            rule_states = reversed_rules.get(key)
            if rule_states is None:
                rule_states = reversed_rules[key] = list(reversed(json.loads(key)))
            candidates.append((key, rule_states))
        for index, state in enumerate(reversed(states)):
            if not candidates or all(index >= len(rule_states) for _, rule_states in candidates):
                break
            current_previous_action = state.get(PREVIOUS_ACTION)
            kept = []
            for key, rule_states in candidates:
                if index >= len(rule_states):
                    kept.append((key, rule_states))
                    continue
                rule_state = rule_states[index]
                rule_previous_action = rule_state.get(PREVIOUS_ACTION)
                if not rule_previous_action and not current_previous_action:
                    kept.append((key, rule_states))
                elif not rule_previous_action or not current_previous_action:
                    continue
                elif self._does_rule_match_state(rule_state, state):
                    kept.append((key, rule_states))
            candidates = kept
        return {key for key, _ in candidates}

    _get_possible_keys.__wrapped__ = original  # type: ignore[attr-defined]
    RulePolicy._get_possible_keys = _get_possible_keys


def _patch_arrival_order() -> None:
    from rasa.core.processor import MessageProcessor

    from bot.arrival_order import ArrivalGate

    gate = ArrivalGate()
    original = MessageProcessor.handle_message

    async def handle_message(self: MessageProcessor, message: Any) -> Any:
        # Inside the conversation's lock (Agent.handle_message takes it first), so a message
        # waiting for its conversation's earlier one never holds up the gate.
        await gate.enter()
        return await original(self, message)

    handle_message.__wrapped__ = original  # type: ignore[attr-defined]
    MessageProcessor.handle_message = handle_message


def _seal_incoming_id_numbers() -> None:
    from rasa.core.channels.channel import UserMessage

    from connectors.privacy import seal_id_numbers

    original_init = UserMessage.__init__

    def __init__(self, text=None, *args, **kwargs):
        original_init(self, seal_id_numbers(text) if isinstance(text, str) else text, *args, **kwargs)

    UserMessage.__init__ = __init__


def apply_privacy_guards() -> None:
    from filings.identity import install_log_redaction

    install_log_redaction()
    _seal_incoming_id_numbers()


def _settle_heap_after_model_load() -> None:
    """The loaded model is frozen out of the garbage collector's sight (bot/heap.py): its
    oldest-generation collections took 200-650 ms each, a pause for every conversation in flight."""
    import rasa.core.run

    from bot.heap import settle

    original = rasa.core.run.load_agent_on_start

    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        agent = await original(*args, **kwargs)
        settle("loading the model")
        return agent

    load_agent_on_start.__wrapped__ = original  # type: ignore[attr-defined]
    rasa.core.run.load_agent_on_start = load_agent_on_start


def apply_patches() -> bool:
    import rasa

    if rasa.__version__ != PATCHED_RASA_VERSION:
        log.warning("Rasa %s is not %s: running without the speed fixes", rasa.__version__, PATCHED_RASA_VERSION)
        return False
    _patch_action_result_validation()
    _patch_event_lookup()
    _patch_endpoint_sessions()
    _patch_action_call()
    _patch_action_logging()
    _patch_remote_action_tracker()
    _patch_graph_runner()
    _patch_sparse_feature_combination()
    _patch_state_history()
    _patch_slot_copy()
    _patch_model_prediction()
    _patch_rule_lookup()
    _patch_arrival_order()
    _settle_heap_after_model_load()
    return True


def main() -> None:
    apply_privacy_guards()
    apply_patches()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
