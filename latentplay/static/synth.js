// latentplay's browser-side player: loops (or plays once) the current sound through Web Audio and crossfades to each
// new one; one AudioContext, one master gain and one registry of players for the whole page (window.__latentplay).
// A widget shown twice (two views of one model, told apart by `uid`) sounds once: its first view plays, the
// others show the state and their buttons act on the same sound.
function G() {
  if (window.__latentplay) return window.__latentplay;
  const ctx = new (window.AudioContext || window.webkitAudioContext)();
  const master = ctx.createGain(); master.connect(ctx.destination);
  const g = window.__latentplay = {ctx, master, volume: 0.8, players: new Set(), views: new Map(),
    stopAll() { for (const p of g.players) p.stop(true); },
    setVolume(v) { g.volume = v; master.gain.setTargetAtTime(v, ctx.currentTime, 0.01); for (const p of g.players) p.showVolume(); },
    resume() { if (ctx.state === 'suspended') ctx.resume(); }};
  master.gain.value = g.volume;
  for (const ev of ['pointerdown', 'keydown']) document.addEventListener(ev, g.resume, {capture: true});  // a gesture unlocks audio
  return g;
}

function render({model, el}) {
  const g = G(), ctx = g.ctx;
  let buffer = null, src = null, gain = null, t0 = 0, off = 0, decodes = 0, loading = false;
  const st = {received: 0, decoded: 0, applied: 0, restarts: 0, elapsed0: 0, lastStep: -1};
  const uid = model.get('uid') || String(Math.random());
  const leads = () => (g.views.get(uid) || [])[0] === me;   // the view that sounds
  el.classList.add('lp-synth');
  el.innerHTML = '<button class="lp-synth-play" title="play or stop this sound">▶</button>'
    + '<button class="lp-stop-all" title="stop every latentplay player on the page">■ all</button>'
    + '<input class="lp-volume" type="range" min="0" max="1" step="0.01" title="master volume of every latentplay player">'
    + '<span class="lp-synth-info"></span>';
  const [btn, stopAll, vol, info] = el.children;
  const position = () => {                       // seconds into the buffer now playing
    if (!src || !buffer) return 0;
    const p = ctx.currentTime - t0 + off;
    return model.get('loop') ? p % buffer.duration : Math.min(p, buffer.duration);
  };
  const fade = () => Math.max(0.005, model.get('fade_ms') / 1000);
  function start(buf, from) {                    // play `buf` from `from` s, crossfading from what plays now
    const now = ctx.currentTime, f = fade();
    if (src) { const o = src, og = gain; og.gain.cancelScheduledValues(now); og.gain.setValueAtTime(og.gain.value, now);
               og.gain.linearRampToValueAtTime(0, now + f); o.stop(now + f + 0.01); }
    else { st.restarts += 1; st.elapsed0 = now; }
    const s = ctx.createBufferSource(), gn = ctx.createGain();
    s.buffer = buf; s.loop = model.get('loop');
    gn.gain.setValueAtTime(0, now); gn.gain.linearRampToValueAtTime(1, now + (src ? f : 0.005));
    s.connect(gn); gn.connect(g.master);
    s.onended = () => { if (s === src) { src = gain = null; model.set('playing', false); model.save_changes(); show(); } };
    s.start(now, from); src = s; gain = gn; t0 = now; off = from; buffer = buf;
    if (model.get('exclusive')) for (const p of g.players) if (p.uid !== uid && p.exclusive()) p.stop(true);
    show();
  }
  function stop(tell) {
    if (src) { const now = ctx.currentTime, o = src; gain.gain.cancelScheduledValues(now); gain.gain.setValueAtTime(gain.gain.value, now);
               gain.gain.linearRampToValueAtTime(0, now + 0.02); src = gain = null; o.stop(now + 0.03); }
    if (tell && model.get('playing')) { model.set('playing', false); model.save_changes(); }
    show();
  }
  function play() {                              // playing asked for: start unless it sounds already or a new sound is coming
    g.resume();
    Promise.resolve().then(() => { if (leads() && !src && buffer && !loading && model.get('playing')) start(buffer, 0); });
  }
  async function load() {
    const v = model.get('value');
    if (!v || !v.byteLength || !leads()) return show();
    const my = ++decodes, n = model.get('sent');
    loading = true; st.received += 1;
    const bytes = v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
    let buf;
    try { buf = await ctx.decodeAudioData(bytes); }
    catch (e) { if (my === decodes) loading = false; info.textContent = 'cannot decode: ' + e; return; }
    if (my !== decodes) return;                  // a newer sound came meanwhile
    loading = false; st.decoded += 1; st.applied = n;   // sounds that came while one decoded are skipped
    if (!model.get('playing')) buffer = buf;
    else start(buf, src && model.get('loop') ? position() % buf.duration : 0);   // a loop keeps its phase
    show();
  }
  const me = {model, uid, stop, exclusive: () => model.get('exclusive'), showVolume: () => { vol.value = g.volume; },
              lead: () => { load().then(() => { if (model.get('playing')) play(); }); }};
  g.players.add(me);
  g.views.set(uid, [...(g.views.get(uid) || []), me]);
  function show() {
    const on = leads() ? !!src : model.get('playing');
    btn.textContent = on ? '■' : '▶';
    const p = position();
    Object.assign(el.dataset, {state: ctx.state, playing: String(!!src), view: leads() ? 'sounding' : 'mirror', received: String(st.received), decoded: String(st.decoded), applied: String(st.applied),
      duration: buffer ? buffer.duration.toFixed(4) : '0', position: p.toFixed(4), restarts: String(st.restarts),
      elapsed: src ? (ctx.currentTime - st.elapsed0).toFixed(4) : '0', loop: String(model.get('loop')),
      now: ctx.currentTime.toFixed(4), fade: String(model.get('fade_ms'))});
    info.textContent = !leads() ? (on ? 'playing in the view above' : '')
      : buffer ? (src ? (model.get('loop') ? 'looping ' : 'playing ') : '') + buffer.duration.toFixed(2) + ' s' : '';
    const n = model.get('steps'), box = el.closest('.lp-sequencer');     // the sequencer's playhead
    if (n > 0 && box) {
      const reps = Math.max(1, model.get('repeats')), d = buffer ? buffer.duration / (n * reps) : 0;
      let step = -1;                             // the step sounding now: odd steps start `swing` of a step late
      if (src && d > 0) { const k = Math.floor(p / d); step = k % n; if (step % 2 === 1 && p - k * d < model.get('swing') * d) step -= 1; }
      if (step !== st.lastStep) {
        for (const c of box.querySelectorAll('.lp-playhead')) c.classList.remove('lp-playhead');
        if (step >= 0) for (const c of box.querySelectorAll('[class*="lp-cell-"]'))
          if (c.className.match(/lp-cell-\d+-(\d+)/) && +RegExp.$1 === step) c.classList.add('lp-playhead');
        st.lastStep = step; el.dataset.step = String(step);
      }
    }
    const a = el.closest('.lp-player') && el.closest('.lp-player').querySelector('audio');
    if (a && !a.__lpSynth) { a.__lpSynth = true; a.addEventListener('play', () => stop(true)); }  // one sound at a time
  }
  btn.onclick = () => {
    g.resume();
    if (!leads()) { model.set('playing', !model.get('playing')); model.save_changes(); return; }   // the sounding view acts
    if (src) stop(true); else { model.set('playing', true); model.save_changes(); play(); }
  };
  stopAll.onclick = () => g.stopAll();
  vol.oninput = () => g.setVolume(parseFloat(vol.value));
  me.showVolume();
  model.on('change:value', load);
  model.on('change:playing', () => model.get('playing') ? play() : stop(false));
  model.on('change:loop', () => { if (src) src.loop = model.get('loop'); });
  model.on('msg:custom', (m) => { if (m && m.cmd === 'stop_all') g.stopAll(); });
  const tick = setInterval(show, 40);
  load();
  return () => {
    clearInterval(tick); stop(false); g.players.delete(me);
    const was = leads(), rest = (g.views.get(uid) || []).filter(v => v !== me);
    if (rest.length) g.views.set(uid, rest); else g.views.delete(uid);
    if (was && rest.length) rest[0].lead();      // the next view takes over the sound
  };
}
export default {render};
