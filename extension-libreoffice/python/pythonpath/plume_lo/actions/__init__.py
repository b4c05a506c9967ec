"""What each Plume button does, independent of any user interface: one module per concern.

An action has three steps, so that the server is never called while the document is being changed
and the document is never changed before the server has answered:

- `capture(doc)`  (main thread): read what the action needs from the document;
- `work(client, snapshot, job)` (worker thread): the HTTP calls; may raise PlumeError;
- `apply(ctx, doc, snapshot, result)` (main thread): change the document in one undo step and
  return a dict describing the outcome (shown in the panel, or returned to a dispatch caller).

An action whose result the model writes bit by bit also has `partial(written)`: what Stop keeps of
it, in the shape `apply` takes (None: nothing worth keeping). `work` tells the job what is written
so far (`job.wrote`), in one assignment, so that Stop never sees a half-updated state.

The sidebar, the menu, the context menu and the tests all run these same objects through
`runner.start`. base.py holds the protocol (Action) and its helpers, review.py how a result goes
into the text (tracked changes, in place, after); the others hold the actions, by what they serve:
plain_language, translation, drafting (summary, minutes, fact sheet, acknowledgement), templates,
proofreading, commune (the commune's own actions), capabilities.
"""
