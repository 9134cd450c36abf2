// The web page: upload a file to /api/v1/transcribe/stream and show progress, segments and the
// transcript as they arrive. Plain browser JavaScript, no build step. The API key (only needed
// when the server has API_KEYS) is kept in localStorage and sent as a Bearer token.
const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "tingwu-whisper.apiKey";
let file = null;
let files = null;
let text = "";

function authHeaders() {
  const key = $("api-key").value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function errorDetail(res) {
  try {
    const body = await res.json();
    return body.detail ?? body.error?.message ?? JSON.stringify(body);
  } catch {
    return res.statusText;
  }
}

function formatMs(ms) {
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  const h = Math.floor(ms / 3600000);
  const m = Math.floor((ms % 3600000) / 60000);
  const s = Math.floor((ms % 60000) / 1000);
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

async function loadModelInfo() {
  const info = $("model-info");
  try {
    const res = await fetch("/api/v1/backend", { headers: authHeaders() });
    if (!res.ok) throw new Error(res.status === 401 ? "an API key is needed" : await errorDetail(res));
    const body = await res.json();
    const ready = await fetch("/ready", { headers: authHeaders() }).then((r) => r.json()).catch(() => ({ status: "unknown" }));
    const rows = { status: ready.status, backend: body.backend, model: body.info.model, device: body.info.device, language: body.info.language };
    info.replaceChildren(
      ...Object.entries(rows).flatMap(([k, v]) => {
        const dt = document.createElement("dt");
        dt.textContent = k;
        const dd = document.createElement("dd");
        dd.textContent = String(v ?? "");
        dd.id = `model-${k}`;
        return [dt, dd];
      }),
    );
  } catch (error) {
    $("model-status").textContent = `unavailable: ${error.message}`;
  }
}

function chooseFile(chosen) {
  file = chosen ?? null;
  $("drop-text").textContent = file ? `${file.name} (${(file.size / 1024).toFixed(1)} KiB)` : "Drop an audio or video file here, or click to choose one";
  $("submit").disabled = !file;
}

function addSegment(segment) {
  const row = document.createElement("tr");
  for (const value of [formatMs(segment.start), formatMs(segment.end), segment.text]) {
    const cell = document.createElement("td");
    cell.textContent = value;
    row.append(cell);
  }
  $("segments").tBodies[0].append(row);
}

function setProgress(percent) {
  $("progress").value = percent;
  $("progress-text").textContent = `${Math.round(percent)}%`;
}

/** Reads server-sent events from a fetch body: calls onEvent(name, data) for each. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      onEvent(event, JSON.parse(data));
    }
  }
}

async function transcribe(event) {
  event.preventDefault();
  if (!file) return;
  showError("");
  files = null;
  text = "";
  $("segments").tBodies[0].replaceChildren();
  $("text").textContent = "";
  $("result").hidden = false;
  $("progress-box").hidden = false;
  setProgress(0);
  $("submit").disabled = true;
  $("form").setAttribute("aria-busy", "true");
  try {
    const form = new FormData();
    form.append("file", file, file.name);
    const hotwords = $("hotwords").value.trim();
    if (hotwords) form.append("hotwords", hotwords);
    const language = $("language").value;
    if (language) form.append("asr_options", JSON.stringify({ backend: { language } }));
    const res = await fetch("/api/v1/transcribe/stream", { method: "POST", body: form, headers: authHeaders() });
    if (!res.ok) throw new Error(`${res.status}: ${await errorDetail(res)}`);
    let finished = false;
    await readEvents(res.body, (name, data) => {
      if (name === "progress") setProgress(data.progress);
      else if (name === "segment") addSegment(data);
      else if (name === "files") files = data;
      else if (name === "error") throw new Error(data.detail);
      else if (name === "result") {
        finished = true;
        text = data.text;
        $("text").textContent = data.text;
        $("segments").tBodies[0].replaceChildren();
        data.sentences.forEach(addSegment);
        setProgress(100);
      }
    });
    if (!finished) throw new Error("the connection closed before the transcription finished");
    $("result").dataset.done = "true";
  } catch (error) {
    showError(`Transcription failed: ${error.message}`);
  } finally {
    $("submit").disabled = !file;
    $("form").removeAttribute("aria-busy");
  }
}

function download(format) {
  if (!files) return;
  const types = { srt: "application/x-subrip", vtt: "text/vtt", txt: "text/plain" };
  const url = URL.createObjectURL(new Blob([files[format]], { type: `${types[format]};charset=utf-8` }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `${(file?.name ?? "transcript").replace(/\.[^.]+$/, "")}.${format}`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function init() {
  const key = $("api-key");
  key.value = localStorage.getItem(KEY_STORAGE) ?? "";
  key.addEventListener("change", () => {
    localStorage.setItem(KEY_STORAGE, key.value.trim());
    loadModelInfo();
  });
  $("file").addEventListener("change", () => chooseFile($("file").files[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    chooseFile(e.dataTransfer.files[0]);
  });
  $("form").addEventListener("submit", transcribe);
  $("copy").addEventListener("click", async () => {
    await navigator.clipboard.writeText(text);
    $("copy").textContent = "Copied";
    setTimeout(() => ($("copy").textContent = "Copy text"), 1500);
  });
  for (const button of document.querySelectorAll("button.download")) button.addEventListener("click", () => download(button.dataset.format));
  loadModelInfo();
}

init();
