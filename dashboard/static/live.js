// Live updates: WatchJobEvents held open for as long as the page is, and
// reopened after a drop (a restart, a proxy's timeout, a network blip)
// from the last event id seen, so no transition is missed.

const firstDelay = 1000;
const maxDelay = 30000;

// startLive streams job events to onMessage and reports its state ("live",
// "reconnecting", "stopped") to onState. onReconnect runs when a stream
// reopens without a last id to resume from (events may have been missed);
// onFatal when retrying cannot help (the token is refused). It returns a
// function that stops the stream.
export function startLive(api, { onMessage, onState, onReconnect, onFatal }) {
  const abort = new AbortController();
  const { signal } = abort;
  let lastId = "0";
  let delay = firstDelay;

  (async () => {
    for (let attempt = 0; !signal.aborted; attempt++) {
      if (attempt > 0 && lastId === "0") onReconnect();
      onState("live");
      try {
        await api.watch("WatchJobEvents", { afterEventId: lastId }, (msg) => {
          delay = firstDelay;
          if (msg.event?.id) lastId = msg.event.id;
          onMessage(msg);
        }, signal);
      } catch (err) {
        if (signal.aborted) return;
        if (["unauthenticated", "permission_denied", "unimplemented"].includes(err.code)) {
          onState("stopped");
          onFatal(err);
          return;
        }
      }
      // A clean end (the server is stopping) or a drop: wait, then resume.
      onState("reconnecting");
      await sleep(delay, signal);
      delay = Math.min(delay * 2, maxDelay);
    }
  })();

  return () => abort.abort();
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
  });
}
