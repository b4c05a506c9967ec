"""One scheduler in front of every engine.

- Bounded: at most `queue_size` requests wait for an engine; past that, 503 and `Retry-After` at once.
- Fair: each user has their own line; when an engine slot frees up, the user served least recently
  goes first (round-robin): one person's twenty summaries do not starve a colleague's translation.
- Batched: up to `max_batch` generations at once per engine, on worker threads; with `generate_batch`
  (GenAIEngine), static batches of waiting requests with the same sampling, up to `batch_size` (8).
- Interactive first (`interactive_first`, turns.py): a local engine's generations take turns, the
  one with the least work left first; a short request may start on SHORT_RESERVE extra slots; only
  short requests are batched (a batch reads its prompts in one unit, which no turn interrupts).
- Engines are blocking generators on worker threads, their chunks bridged to the event loop; time
  limit and client disconnect set the request's CancelToken, checked between decoding steps.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from plume.inference.engine import CancelToken, Chunk, Engine, EngineError, GenerationParams
from plume.inference.errors import GenerationFailed, GenerationTimeout, InferenceRefusal, QueueFull
from plume.inference.metrics import Metrics
from plume.inference.turns import ComputeTurns, Ticket

log = logging.getLogger("plume.scheduler")

_END = object()
DEFAULT_BATCH = 8  # requests decoded together by a batching engine that does not say otherwise
SHORT_WORK = 1024  # tokens to read and write: a paragraph rewritten, a short chat (a summary is more)
SHORT_RESERVE = 2  # slots beyond an engine's own that only short requests may take
_ids = itertools.count(1)


@dataclass(eq=False)
class Job:
    """One admitted request. `generate` is the blocking call the worker thread runs."""

    user: str
    task: str
    engine: Engine
    generate: Callable[[CancelToken], Iterator[Chunk]]
    loop: asyncio.AbstractEventLoop
    prompt: str | None = None
    params: GenerationParams | None = None
    work: int = 0  # tokens to read and write (prompt + max_new_tokens): what turns.py orders by
    id: int = field(default_factory=lambda: next(_ids))
    cancel: CancelToken = field(default_factory=CancelToken)
    out: asyncio.Queue = field(default_factory=asyncio.Queue)
    admitted_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    first_token_at: float | None = None
    tokens: int = 0
    state: str = "waiting"  # waiting | running | done
    timeout_s: float | None = None  # this job's time limit, when not the scheduler's (a window of audio)


def engine_slots(engine: Engine) -> int:
    """How many generations an engine runs at once (`max_batch`; each may be a batch of requests for
    an engine with `generate_batch`). Several slots keep a short request from waiting behind a long
    one; requests that find every slot busy are batched together when one frees up."""
    return max(1, int(getattr(engine, "max_batch", 1) or 1))


def batch_size(engine: Engine) -> int:
    """Requests decoded together by a batching engine (its `batch_size`, else DEFAULT_BATCH)."""
    return max(1, int(getattr(engine, "batch_size", DEFAULT_BATCH) or DEFAULT_BATCH))


def _batchable(job: Job, interactive_first: bool = False) -> bool:
    return job.prompt is not None and job.params is not None and callable(getattr(job.engine, "generate_batch", None)) \
        and not (interactive_first and job.engine.takes_turns and job.work > SHORT_WORK)


def _batch_key(job: Job) -> tuple:
    """Requests batched together share their sampling settings and output schema (not the token limit)."""
    p = job.params
    return (p.temperature, p.top_p, p.num_beams, p.seed, p.json_schema)


def _fields(params: GenerationParams) -> dict[str, Any]:
    return {name: getattr(params, name) for name in params.__struct_fields__}


class Scheduler:
    def __init__(self, *, queue_size: int, timeout_s: float, metrics: Metrics, max_threads: int = 64,
                 interactive_first: bool = True) -> None:
        self.queue_size = max(1, queue_size)
        self.timeout_s = timeout_s
        self.metrics = metrics
        self.interactive_first = interactive_first
        self._turns: dict[int, ComputeTurns] = {}  # id(engine) -> its turns
        self._lines: dict[str, deque[Job]] = {}  # per user, waiting jobs in arrival order
        self._served: dict[str, int] = {}  # user -> when last served (a serial number)
        self._serial = 0
        self._dispatch_pending = False
        self._active: set[Job] = set()  # running jobs, cancelled at shutdown
        self._busy: dict[int, int] = {}  # id(engine) -> generations (single or batched) running on it
        self._admitted = 0
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="plume-gen")
        self._recent: deque[tuple[float, int]] = deque()  # (time, tokens) for the throughput gauge
        self._recent_lock = threading.Lock()  # appended by worker threads, read by /metrics
        self._durations: deque[float] = deque(maxlen=50)
        metrics.throughput.set_function(self._tokens_per_second)

    # -- admission ---------------------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Requests waiting for an engine (not yet running)."""
        return sum(len(line) for line in self._lines.values())

    @property
    def admitted(self) -> int:
        return self._admitted

    def submit(self, *, engine: Engine, task: str, user: str | None, prompt: str | None = None,
               params: GenerationParams | None = None,
               generate: Callable[[CancelToken], Iterator[Chunk]] | None = None, work: int | None = None,
               timeout_s: float | None = None) -> Job:
        """Admit a request or refuse it at once (503 + Retry-After). Call from the event loop.
        Give `prompt` and `params` (batched when the engine batches), or a `generate` callable.
        `work`: tokens to read and write (default: the prompt's length / 4 and max_new_tokens);
        `timeout_s`: this request's own time limit (default: the scheduler's)."""
        if self.depth >= self.queue_size:
            self.metrics.rejected.labels("queue-full").inc()
            raise QueueFull(self._retry_after())
        if generate is None:
            generate = lambda cancel: engine.generate(prompt, params, cancel)  # noqa: E731
        if work is None:
            work = len(prompt or "") // 4 + (params.max_new_tokens if params else 0)
        job = Job(user=user or "anonyme", task=task, engine=engine, generate=generate, prompt=prompt, params=params,
                  loop=asyncio.get_running_loop(), work=work, timeout_s=timeout_s)
        self._admitted += 1
        self._lines.setdefault(job.user, deque()).append(job)
        if not self._dispatch_pending:  # requests submitted in the same loop turn can share a batch
            self._dispatch_pending = True
            job.loop.call_soon(self._dispatch)
        return job

    def _retry_after(self) -> int:
        # Time for the queue ahead to drain, from recent request durations; between 1 s and 2 min.
        typical = sorted(self._durations)[len(self._durations) // 2] if self._durations else 5.0
        running = max(1, sum(self._busy.values()))
        return max(1, min(120, math.ceil(typical * max(1, self.depth) / running)))

    # -- dispatch (event loop only) ------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Start waiting jobs whose engine is free, least recently served user first; a batching engine
        takes the next compatible waiting jobs with it."""
        self._dispatch_pending = False
        while True:
            order = sorted(self._lines, key=lambda user: self._served.get(user, 0))  # stable: arrival breaks ties
            first = next((job for user in order for job in self._lines[user] if self._free(job)), None)
            if first is None:
                break
            batch = [first]
            if _batchable(first, self.interactive_first):
                key = _batch_key(first)
                limit = batch_size(first.engine)
                for user in order:
                    for job in self._lines[user]:
                        if len(batch) < limit and job is not first and job.engine is first.engine \
                                and _batchable(job, self.interactive_first) and _batch_key(job) == key:
                            batch.append(job)
            for job in batch:
                self._take(job)
            self._start(batch)
        self.metrics.queue_depth.set(self.depth)

    def _free(self, job: Job) -> bool:
        slots = engine_slots(job.engine)
        if self.interactive_first and job.engine.takes_turns and job.work <= SHORT_WORK:
            slots += SHORT_RESERVE  # a paragraph does not wait for a summary to end (turns share the cores)
        return self._busy.get(id(job.engine), 0) < slots

    def _take(self, job: Job) -> None:
        line = self._lines[job.user]
        line.remove(job)
        if not line:
            del self._lines[job.user]
        self._serial += 1
        self._served[job.user] = self._serial

    def _start(self, jobs: list[Job]) -> None:
        engine = jobs[0].engine
        self._busy[id(engine)] = self._busy.get(id(engine), 0) + 1
        now = time.monotonic()
        for job in jobs:
            job.state = "running"
            job.started_at = now
            self._active.add(job)
            self.metrics.queue_wait.observe(now - job.admitted_at)
        self.metrics.running.labels(engine.model_id).inc(len(jobs))
        self.metrics.batch_size.observe(len(jobs))
        turns = self._turns_for(jobs)
        if len(jobs) == 1 and not _batchable(jobs[0]):
            jobs[0].cancel.turns = turns
            self._pool.submit(self._work, jobs[0])
        else:
            self._pool.submit(self._work_batch, jobs, turns)

    def _turns_for(self, jobs: list[Job]) -> Callable[[int], Any] | None:
        """The generation's turns on its engine (one ticket for a batch), or None: every unit at once."""
        if not (self.interactive_first and jobs[0].engine.takes_turns):
            return None
        turns = self._turns.setdefault(id(jobs[0].engine), ComputeTurns())
        return partial(turns.turn, Ticket(sum(job.work for job in jobs)))

    def _job_done(self, job: Job) -> None:
        if job.state == "done":
            return
        job.state = "done"
        self._active.discard(job)
        self._admitted -= 1
        self.metrics.running.labels(job.engine.model_id).dec()
        if job.started_at is not None:
            self._durations.append(time.monotonic() - job.started_at)

    def _release(self, jobs: list[Job]) -> None:
        for job in jobs:
            self._job_done(job)
        self._busy[id(jobs[0].engine)] -= 1
        self._dispatch()

    def _withdraw(self, job: Job) -> None:
        """A waiting job whose client left or timed out: drop it from its line."""
        line = self._lines.get(job.user)
        if line and job in line:
            line.remove(job)
            if not line:
                del self._lines[job.user]
            job.state = "done"
            self._admitted -= 1
            self.metrics.queue_depth.set(self.depth)

    # -- worker threads ------------------------------------------------------------------------------

    def _work(self, job: Job) -> None:
        emit = job.loop.call_soon_threadsafe
        try:
            for chunk in job.generate(job.cancel):
                if chunk.tokens:
                    self._count(job, chunk.tokens)
                emit(job.out.put_nowait, chunk)
                if job.cancel.cancelled:
                    break
            emit(job.out.put_nowait, _END)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting request
            emit(job.out.put_nowait, exc)
        finally:
            emit(self._release, [job])

    def _work_batch(self, jobs: list[Job], turns: Callable[[int], Any] | None = None) -> None:
        """One batched generation for several jobs. Stop strings are left to the service (so a row
        ends only at its end token, its own token limit, or its cancellation, which this loop sees)."""
        emit = jobs[0].loop.call_soon_threadsafe
        stops = [CancelToken(turns) for _ in jobs]  # what the engine sees, per row
        ended = [False] * len(jobs)
        limits = [job.params.max_new_tokens for job in jobs]
        params = GenerationParams(**{**_fields(jobs[0].params), "stop": [], "max_new_tokens": max(limits)})

        deliveries: list[tuple[Job, Any]] = []  # sent to the event loop once per step

        def end(i: int, item: Any = _END) -> None:
            ended[i] = True
            stops[i].cancel()
            deliveries.append((jobs[i], item))

        try:
            for step in jobs[0].engine.generate_batch([job.prompt for job in jobs], params, stops):
                step_tokens = 0
                for i, chunk in enumerate(step):
                    if ended[i]:
                        continue
                    if chunk is not None:
                        if chunk.tokens:
                            self._count(jobs[i], chunk.tokens, publish=False)
                            step_tokens += chunk.tokens
                        if chunk.text:
                            deliveries.append((jobs[i], chunk))
                        elif chunk.tokens:  # an empty chunk mid-batch is the row's end token
                            deliveries.append((jobs[i], chunk))
                            end(i)
                            continue
                    if jobs[i].cancel.cancelled or jobs[i].tokens >= limits[i]:
                        end(i)
                self._publish(jobs[0].engine, step_tokens)
                if deliveries:
                    emit(self._deliver, deliveries)
                    deliveries = []
            for i in range(len(jobs)):
                if not ended[i]:
                    end(i)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting request of the batch
            for i in range(len(jobs)):
                if not ended[i]:
                    end(i, exc)
        finally:
            emit(self._deliver, deliveries)
            emit(self._release, jobs)

    def _deliver(self, deliveries: list[tuple[Job, Any]]) -> None:
        for job, item in deliveries:
            job.out.put_nowait(item)
            if item is _END or isinstance(item, BaseException):
                self._job_done(job)

    def _count(self, job: Job, tokens: int, *, publish: bool = True) -> None:
        if job.first_token_at is None:
            job.first_token_at = time.monotonic()
        job.tokens += tokens
        if publish:
            self._publish(job.engine, tokens)

    def _publish(self, engine: Engine, tokens: int) -> None:
        """Add generated tokens to the metrics (once per decoding step, not per row)."""
        if tokens:
            self.metrics.tokens.labels(engine.model_id).inc(tokens)
            with self._recent_lock:
                self._recent.append((time.monotonic(), tokens))

    def _tokens_per_second(self) -> float:
        horizon = time.monotonic() - 10.0
        with self._recent_lock:
            while self._recent and self._recent[0][0] < horizon:
                self._recent.popleft()
            return sum(n for _, n in self._recent) / 10.0

    # -- results (event loop) --------------------------------------------------------------------------

    async def chunks(self, job: Job) -> AsyncIterator[Chunk]:
        """The job's chunks as they come (those already waiting are merged into one, which keeps the
        per-token cost low when the engine is faster than the client). Leaving early (client gone,
        error) cancels the generation; passing the time limit cancels it and raises 504."""
        limit = job.timeout_s or self.timeout_s
        loop_deadline = job.loop.time() + (job.admitted_at + limit - time.monotonic())
        try:
            while True:
                try:
                    async with asyncio.timeout_at(loop_deadline):
                        items = [await job.out.get()]
                except TimeoutError:
                    self.metrics.rejected.labels("timeout").inc()
                    raise GenerationTimeout(limit) from None
                while not job.out.empty():
                    items.append(job.out.get_nowait())
                texts, tokens = [], 0
                for item in items:
                    if isinstance(item, Chunk):
                        texts.append(item.text)
                        tokens += item.tokens
                        continue
                    if texts:
                        yield Chunk("".join(texts), tokens)
                    if item is _END:
                        return
                    raise self._as_problem(job, item)
                yield Chunk("".join(texts), tokens)
        finally:
            self.abandon(job)
            self._observe(job)

    def abandon(self, job: Job) -> None:
        """The requester is gone: stop the engine, or give the place in the queue back."""
        job.cancel.cancel()  # no-op once finished
        if job.state == "waiting":
            self._withdraw(job)

    def _as_problem(self, job: Job, exc: BaseException) -> BaseException:
        if isinstance(exc, InferenceRefusal):
            return exc
        # Only the type: engine messages may quote the prompt.
        kind = "engine error" if isinstance(exc, EngineError) else "unexpected"
        log.error("engine %s failed (%s): %s", job.engine.model_id, kind, type(exc).__name__)
        return GenerationFailed(job.engine.model_id)

    def _observe(self, job: Job) -> None:
        end = time.monotonic()
        self.metrics.latency.labels(job.task).observe(end - job.admitted_at)
        if job.first_token_at is not None:
            self.metrics.first_token.labels(job.task).observe(job.first_token_at - job.admitted_at)
            if end > job.first_token_at and job.tokens > 1:
                self.metrics.decode_rate.labels(job.engine.model_id).observe((job.tokens - 1) / (end - job.first_token_at))

    def close(self) -> None:
        """Shutdown: stop every running generation so the worker threads end at their next step."""
        for job in list(self._active):
            job.cancel.cancel()
        self._pool.shutdown(wait=False, cancel_futures=True)
