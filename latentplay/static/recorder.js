// latentplay's recorder: the browser's MediaRecorder around the microphone, a level meter, and the take sent to the
// kernel as 32-bit float samples (decoded here by the browser's own codecs, so the kernel needs no Opus decoder).
// The Python side is latentplay/recorder.py; `model.send` carries the samples as a binary buffer.

const views = new WeakMap();   // model -> its shown views; the first answers the kernel's start/stop (one take, however many are shown)

function fmt(s) { return s.toFixed(1) + ' s'; }

function render({ model, el }) {
  el.classList.add('lp-recorder');
  const button = document.createElement('button');
  button.className = 'lp-rec-button';
  const meter = document.createElement('div');
  meter.className = 'lp-rec-meter';
  const bar = document.createElement('div');
  bar.className = 'lp-rec-bar';
  meter.appendChild(bar);
  const clock = document.createElement('span');
  clock.className = 'lp-rec-clock';
  const note = document.createElement('span');
  note.className = 'lp-rec-note';
  el.append(button, meter, clock, note);

  let rec = null, stream = null, ctx = null, analyser = null, timer = null, t0 = 0, chunks = [];

  function show() {
    const state = model.get('state');
    button.textContent = state === 'recording' ? '■ stop' : '● record';
    button.classList.toggle('lp-rec-on', state === 'recording');
    button.disabled = state === 'decoding';
    note.textContent = model.get('message');
  }
  function setState(state, message) {
    model.set('state', state);
    if (message !== undefined) model.set('message', message);
    model.save_changes();
    show();
  }
  function fail(message) {
    cleanup();
    setState('idle', message);
    model.send({ type: 'error', message });
  }
  function cleanup() {
    if (timer) { clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(t => t.stop()); stream = null; }
    if (ctx) { ctx.close().catch(() => {}); ctx = null; analyser = null; }
    bar.style.width = '0%';
  }
  function tick() {
    const t = (performance.now() - t0) / 1000;
    clock.textContent = fmt(t);
    if (analyser) {
      const a = new Float32Array(analyser.fftSize);
      analyser.getFloatTimeDomainData(a);
      let peak = 0;
      for (const v of a) peak = Math.max(peak, Math.abs(v));
      const db = 20 * Math.log10(peak + 1e-9);
      bar.style.width = Math.max(0, Math.min(100, (db + 60) / 60 * 100)) + '%';
      bar.classList.toggle('lp-rec-hot', peak > 0.98);
    }
    if (t >= model.get('seconds')) stop();
  }

  async function start() {
    if (rec && rec.state === 'recording') return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof MediaRecorder === 'undefined') {
      fail('this page cannot reach a microphone: open JupyterLab on localhost or over https, in a browser that records');
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (e) {
      fail('no microphone: ' + (e && e.message ? e.message : e) + ' (allow the microphone for this page and press record again)');
      return;
    }
    chunks = [];
    try { rec = new MediaRecorder(stream); } catch (e) { fail('the browser refused to record: ' + e.message); return; }
    rec.ondataavailable = e => { if (e.data && e.data.size) chunks.push(e.data); };
    rec.onstop = finish;
    try {
      ctx = new AudioContext();
      analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      ctx.createMediaStreamSource(stream).connect(analyser);
    } catch (e) { analyser = null; }
    rec.start(250);
    t0 = performance.now();
    timer = setInterval(tick, 50);
    setState('recording', '');
  }

  function stop() {
    if (rec && rec.state === 'recording') { setState('decoding'); rec.stop(); }
  }

  async function finish() {
    const seconds = (performance.now() - t0) / 1000;
    const mime = rec.mimeType;
    cleanup();
    try {
      const blob = new Blob(chunks, { type: mime });
      const dec = new AudioContext();
      let audio;
      try { audio = await dec.decodeAudioData(await blob.arrayBuffer()); } finally { dec.close().catch(() => {}); }
      const n = audio.length, mono = new Float32Array(n);
      for (let c = 0; c < audio.numberOfChannels; c++) {
        const d = audio.getChannelData(c);
        for (let i = 0; i < n; i++) mono[i] += d[i] / audio.numberOfChannels;
      }
      model.send({ type: 'take', sr: audio.sampleRate, samples: n, seconds, mime }, undefined, [mono.buffer]);
      setState('idle');                                  // the kernel says what arrived (take n: d s recorded)
    } catch (e) {
      fail('the recording could not be decoded: ' + (e && e.message ? e.message : e));
    }
  }

  const me = {};
  if (!views.has(model)) views.set(model, []);
  views.get(model).push(me);
  button.addEventListener('click', () => (model.get('state') === 'recording' ? stop() : start()));
  model.on('msg:custom', msg => {
    if (views.get(model)[0] !== me) return;
    if (msg.cmd === 'start') start(); else if (msg.cmd === 'stop') stop();
  });
  model.on('change:message', show);
  model.on('change:state', show);
  show();
  return () => {
    const vs = views.get(model), i = vs.indexOf(me);
    if (i >= 0) vs.splice(i, 1);
    if (rec && rec.state === 'recording') rec.stop();
    cleanup();
  };
}

export default { render };
