"""The scheduler on its own: fairness between users, the bounded queue, time limit, cancellation.

The engine here is a small real Engine that decodes one "token" per step at a known pace and counts
its steps, so the tests can see exactly when a generation runs and when it stops.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from plume.api.problems import as_problem
from plume.inference.errors import GenerationTimeout, QueueFull
from plume.inference.engine import CancelToken, Chunk, Engine, GenerationParams
from plume.inference.metrics import Metrics
from plume.inference.scheduler import Scheduler
from plume.inference import turns


class PacedEngine(Engine):
    """Emits `max_new_tokens` words, one every `step_s` seconds, checking the cancel token each step."""

    def __init__(self, step_s: float = 0.002, max_batch: int = 1) -> None:
        self.model_id = "paced"
        self.context_length = 1000
        self.step_s = step_s
        self.max_batch = max_batch
        self.steps = 0
        self.lock = threading.Lock()
        self.started: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def format_chat(self, messages):
        return " ".join(m["content"] for m in messages)

    def generate(self, prompt: str, params: GenerationParams, cancel: CancelToken):
        with self.lock:
            self.started.append(prompt)
        for i in range(params.max_new_tokens):
            if cancel.cancelled:
                return
            time.sleep(self.step_s)
            with self.lock:
                self.steps += 1
            yield Chunk(f"w{i} ", 1)


def submit(scheduler: Scheduler, engine: PacedEngine, user: str, label: str, tokens: int):
    params = GenerationParams(max_new_tokens=tokens)
    return scheduler.submit(engine=engine, task="test", user=user,
                            generate=lambda cancel: engine.generate(label, params, cancel))


async def drain(scheduler: Scheduler, job) -> str:
    return "".join([chunk.text async for chunk in scheduler.chunks(job)])


def test_users_are_served_in_turn():
    async def scenario():
        engine = PacedEngine()
        scheduler = Scheduler(queue_size=20, timeout_s=30, metrics=Metrics())
        jobs = [submit(scheduler, engine, "anne", f"anne-{i}", 3) for i in range(5)]
        jobs.append(submit(scheduler, engine, "bruno", "bruno-0", 3))
        await asyncio.gather(*(drain(scheduler, job) for job in jobs))
        return engine.started

    order = asyncio.run(scenario())
    # Anne's first request was already running; Bruno's single request comes right after it,
    # not behind Anne's four other ones.
    assert order[:2] == ["anne-0", "bruno-0"]
    assert order[2:] == ["anne-1", "anne-2", "anne-3", "anne-4"]


def test_queue_full_is_refused_with_retry_after():
    async def scenario():
        engine = PacedEngine(step_s=0.01)
        scheduler = Scheduler(queue_size=1, timeout_s=30, metrics=Metrics())
        running = submit(scheduler, engine, "anne", "a", 20)
        await asyncio.sleep(0)  # dispatched: it runs, the queue is empty
        waiting = submit(scheduler, engine, "bruno", "b", 20)
        with pytest.raises(QueueFull) as refused:
            submit(scheduler, engine, "carla", "c", 20)
        await asyncio.gather(drain(scheduler, running), drain(scheduler, waiting))
        later = submit(scheduler, engine, "carla", "c", 2)  # room again once they finished
        await drain(scheduler, later)
        return as_problem(refused.value)  # what the client receives

    problem = asyncio.run(scenario())
    assert problem.status == 503
    assert int(problem.headers["Retry-After"]) >= 1
    assert "file d'attente" in problem.detail


def test_batching_engine_runs_requests_together():
    async def scenario(max_batch: int) -> float:
        engine = PacedEngine(step_s=0.01, max_batch=max_batch)
        scheduler = Scheduler(queue_size=20, timeout_s=30, metrics=Metrics())
        started = time.perf_counter()
        jobs = [submit(scheduler, engine, f"user{i}", str(i), 10) for i in range(4)]
        await asyncio.gather(*(drain(scheduler, job) for job in jobs))
        return time.perf_counter() - started

    one_at_a_time = asyncio.run(scenario(1))
    together = asyncio.run(scenario(4))
    assert together < one_at_a_time / 2


def test_leaving_early_stops_the_engine():
    async def scenario():
        engine = PacedEngine(step_s=0.01)
        scheduler = Scheduler(queue_size=4, timeout_s=30, metrics=Metrics())
        job = submit(scheduler, engine, "anne", "a", 1000)
        stream = scheduler.chunks(job)
        for _ in range(3):
            await anext(stream)
        await stream.aclose()  # what the HTTP layer does when the client disconnects
        await asyncio.sleep(0.2)
        steps_after_close = engine.steps
        await asyncio.sleep(0.3)
        return steps_after_close, engine.steps, scheduler.admitted

    at_close, later, admitted = asyncio.run(scenario())
    assert at_close < 30  # stopped within a step or two, not after 1000
    assert later == at_close  # and stays stopped
    assert admitted == 0  # its place in the queue is free again


def test_time_limit_cancels_and_answers_504():
    async def scenario():
        engine = PacedEngine(step_s=0.01)
        scheduler = Scheduler(queue_size=4, timeout_s=0.3, metrics=Metrics())
        job = submit(scheduler, engine, "anne", "a", 1000)
        with pytest.raises(GenerationTimeout) as timed_out:
            await drain(scheduler, job)
        await asyncio.sleep(0.1)
        steps = engine.steps
        await asyncio.sleep(0.2)
        return as_problem(timed_out.value), steps, engine.steps

    problem, steps, later = asyncio.run(scenario())
    assert problem.status == 504
    assert steps < 100 and later == steps


def test_waiting_request_that_leaves_gives_its_place_back():
    async def scenario():
        engine = PacedEngine(step_s=0.01)
        scheduler = Scheduler(queue_size=2, timeout_s=30, metrics=Metrics())
        running = submit(scheduler, engine, "anne", "a", 30)
        await asyncio.sleep(0)
        waiting = submit(scheduler, engine, "bruno", "b", 30)
        await asyncio.sleep(0)  # the scheduler dispatches on the next loop turn
        assert scheduler.depth == 1
        leaving = asyncio.create_task(drain(scheduler, waiting))
        await asyncio.sleep(0.05)
        leaving.cancel()  # the client hangs up before its turn
        await asyncio.gather(leaving, return_exceptions=True)
        depth_after = scheduler.depth
        await drain(scheduler, running)
        return depth_after, engine.started, scheduler.admitted

    depth, started, admitted = asyncio.run(scenario())
    assert depth == 0 and started == ["a"] and admitted == 0


def test_requests_arriving_together_share_one_batch_with_the_real_engine():
    from plume.inference.catalog import create_engine, load_catalog

    from tests.conftest import TINY_MODELS

    if not TINY_MODELS.exists():
        pytest.skip("tiny models not built")
    engine = create_engine(load_catalog(TINY_MODELS).get("tiny-llm"))
    prompt = engine.format_chat([{"role": "user", "content": "Bonjour, je souhaite une attestation de domicile."}])
    alone = "".join(c.text for c in engine.generate(prompt, GenerationParams(max_new_tokens=20), CancelToken()))

    async def scenario():
        metrics = Metrics()
        scheduler = Scheduler(queue_size=20, timeout_s=60, metrics=metrics)
        limits = [20, 20, 5, 20]
        jobs = [scheduler.submit(engine=engine, task="test", user=f"user{i}", prompt=prompt,
                                 params=GenerationParams(max_new_tokens=n)) for i, n in enumerate(limits)]
        texts = await asyncio.gather(*(drain(scheduler, job) for job in jobs))
        return texts, [job.tokens for job in jobs], metrics

    texts, tokens, metrics = asyncio.run(scenario())
    batches = {s.name: s.value for s in metrics.batch_size.collect()[0].samples}
    assert batches["plume_batch_size_count"] == 1 and batches["plume_batch_size_sum"] == 4
    # Batched rows decode exactly as alone; each row keeps its own token limit.
    assert texts[0] == texts[1] == texts[3] == alone
    assert tokens[2] <= 5 and alone.startswith(texts[2])


class ChunkedEngine(PacedEngine):
    """Reads its prompt in chunks of 64 "tokens" then writes, each unit in the request's turn, like
    GenAIEngine. `prompt` is the number of prompt tokens, as text."""

    takes_turns = True

    def generate(self, prompt: str, params: GenerationParams, cancel: CancelToken):
        with self.lock:
            self.started.append(prompt)
        for _ in range(0, int(prompt), 64):
            with cancel.turn(64):
                time.sleep(self.step_s * 4)
        for i in range(params.max_new_tokens):
            if cancel.cancelled:
                return
            with cancel.turn(1):
                time.sleep(self.step_s)
            yield Chunk(f"w{i} ", 1)


def test_a_short_request_goes_first_while_long_ones_read_their_prompts():
    """Four colleagues' long summaries hold the engine's four slots; a one-paragraph request arriving
    after them gets its first token within a few units of compute, not after a summary ends."""
    async def scenario(interactive_first: bool) -> float:
        engine = ChunkedEngine(step_s=0.005, max_batch=4)
        scheduler = Scheduler(queue_size=20, timeout_s=60, metrics=Metrics(), interactive_first=interactive_first)
        started = time.perf_counter()
        long = [scheduler.submit(engine=engine, task="summarize", user=f"u{i}", work=1920 + 40,
                                 generate=lambda cancel: engine.generate("1920", GenerationParams(max_new_tokens=40),
                                                                         cancel)) for i in range(4)]
        await asyncio.sleep(0.1)
        short = scheduler.submit(engine=engine, task="plain-language", user="clerk", work=128 + 20,
                                 generate=lambda cancel: engine.generate("128", GenerationParams(max_new_tokens=20),
                                                                         cancel))
        stream = scheduler.chunks(short)
        await anext(stream)
        first_token = time.perf_counter() - started - 0.1
        await stream.aclose()
        await asyncio.gather(*(drain(scheduler, job) for job in long))
        return first_token

    waited = asyncio.run(scenario(False))  # as before: behind the summaries, for a free slot
    short_first = asyncio.run(scenario(True))
    assert waited >= 0.5, waited
    assert short_first < waited / 4, (short_first, waited)


def test_long_requests_that_waited_long_do_not_keep_the_lead_over_every_new_paragraph(monkeypatch):
    """Waiting raises a long request's priority so it is never starved; that wait counts from its last
    unit of compute. Counted from its start, summaries running for a while all outranked every new
    paragraph until they ended. Aging sped up 100-fold so that the scene takes a second."""
    monkeypatch.setattr(turns, "AGING_TOKENS_PER_S", 5000.0)

    async def scenario() -> float:
        engine = ChunkedEngine(step_s=0.005, max_batch=4)
        scheduler = Scheduler(queue_size=20, timeout_s=60, metrics=Metrics(), interactive_first=True)
        long = [scheduler.submit(engine=engine, task="summarize", user=f"u{i}", work=1920 + 40,
                                 generate=lambda cancel: engine.generate("1920", GenerationParams(max_new_tokens=40),
                                                                         cancel)) for i in range(4)]
        await asyncio.sleep(1.0)  # the summaries have waited, each has had units since
        started = time.perf_counter()
        short = scheduler.submit(engine=engine, task="plain-language", user="clerk", work=128 + 20,
                                 generate=lambda cancel: engine.generate("128", GenerationParams(max_new_tokens=20),
                                                                         cancel))
        stream = scheduler.chunks(short)
        await anext(stream)
        first_token = time.perf_counter() - started
        await stream.aclose()
        await asyncio.gather(*(drain(scheduler, job) for job in long))
        return first_token

    # Alone the summaries take about 3 s in turns; the paragraph needs 2 chunks and one step.
    assert asyncio.run(scenario()) < 0.5


def test_the_engine_rests_between_two_units_so_that_the_rest_of_the_server_runs():
    """onnxruntime-genai holds Python's lock through each unit; back to back, units left the event loop
    one slice per unit. After each unit a gap (2 % of its time) passes before the next one starts."""
    shared = turns.ComputeTurns()
    spans: list[tuple[float, float]] = []

    def generation(ticket: turns.Ticket) -> None:
        for _ in range(5):
            with shared.turn(ticket, 1):
                started = time.monotonic()
                time.sleep(0.1)
                spans.append((started, time.monotonic()))

    threads = [threading.Thread(target=generation, args=(turns.Ticket(100),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    spans.sort()
    gaps = [later[0] - earlier[1] for earlier, later in zip(spans, spans[1:])]
    assert min(gaps) >= 0.0015, gaps
