// latentplay's small piano keyboard (the sliders' pitch): white and black keys from `low` to `high` (MIDI numbers);
// a click on a key sets `value`, and the key of `value` is lit (also when Python or the pitch slider changes it).
const BLACK = new Set([1, 3, 6, 8, 10]);
const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const noteName = (p) => NAMES[p % 12] + (Math.floor(p / 12) - 1);
const WHITE_PX = 14, BLACK_PX = 9;

function render({model, el}) {
  el.classList.add('lp-keyboard');
  const keys = new Map();
  function light() {
    const v = Math.round(model.get('value'));
    for (const [p, k] of keys) k.classList.toggle('lp-key-on', p === v);
  }
  function draw() {
    el.innerHTML = ''; keys.clear();
    const lo = model.get('low'), hi = model.get('high');
    const box = document.createElement('div');
    box.className = 'lp-keys';
    let x = BLACK.has(((lo % 12) + 12) % 12) ? BLACK_PX / 2 : 0;
    for (let p = lo; p <= hi; p++) {
      const black = BLACK.has(p % 12), k = document.createElement('div');
      k.className = `lp-key ${black ? 'lp-key-black' : 'lp-key-white'} lp-key-${p}`;
      k.dataset.midi = String(p);
      k.title = `${noteName(p)} (${p})`;
      if (black) k.style.left = (x - BLACK_PX / 2) + 'px';          // over the line between two white keys
      else { k.style.left = x + 'px'; x += WHITE_PX; if (p % 12 === 0) k.textContent = noteName(p); }
      k.addEventListener('click', (e) => { e.preventDefault(); e.stopPropagation(); model.set('value', p); model.save_changes(); });
      box.appendChild(k); keys.set(p, k);
    }
    box.style.width = x + 'px';
    el.appendChild(box);
    light();
  }
  model.on('change:value', light);
  model.on('change:low', draw);
  model.on('change:high', draw);
  draw();
  return () => { model.off('change:value', light); model.off('change:low', draw); model.off('change:high', draw); };
}

export default {render};
