"""Data-parallel training: grain steps per second of one process (all threads) against N gloo processes (one thread
each) on this machine, with the same global batch, and how far their losses differ. Prints JSON.

    .venv/bin/python bench/bench_ddp.py [--nproc 2] [--steps 40] [--batch 16]
On a GPU machine, `--device cuda --nproc <GPUs>` compares one GPU with all of them (NCCL)."""
import argparse, json, os, subprocess, sys, tempfile, textwrap
from pathlib import Path

SCRIPT = textwrap.dedent('''
    import json, os, sys, time, torch
    threads, steps, batch, device = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    torch.set_num_threads(threads)
    from latentplay.corpus import Corpus
    from latentplay.granular import GrainModel
    c = Corpus.builtin('gm-drums', progress=False)
    m = GrainModel.fit(c, max_steps=steps, batch_size=batch, stages=(1.0, 1e-9), validate_every=1e9, progress=False, device=device)
    h = [x for x in m.history if 'loss' in x and x.get('stage') == 'grains']
    warm = h[len(h) // 4]                               # after a warm-up quarter
    rate = (len(h) - 1 - h.index(warm)) / (60 * (h[-1]['minutes'] - warm['minutes']))
    if os.environ.get('RANK', '0') == '0':
        print('RESULT ' + json.dumps({'steps_per_s': rate, 'losses': [x['loss'] for x in h]}), flush=True)
''')

def run(nproc, threads, steps, batch, device):
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / 'bench_one.py'; f.write_text(SCRIPT)
        head = [sys.executable] if nproc == 1 else [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={nproc}']
        r = subprocess.run([*head, str(f), str(threads), str(steps), str(batch), device], capture_output=True, text=True,
                           env={**os.environ, 'OMP_NUM_THREADS': str(threads)})
        if r.returncode: sys.exit(r.stderr[-3000:])
        return next(json.loads(l[7:]) for l in r.stdout.splitlines() if l.startswith('RESULT '))

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--nproc', type=int, default=2); p.add_argument('--steps', type=int, default=40)
    p.add_argument('--batch', type=int, default=16); p.add_argument('--device', default='cpu')
    a = p.parse_args()
    cores = os.cpu_count() or 1
    one = run(1, cores if a.device == 'cpu' else 1, a.steps, a.batch, a.device)
    one_thread = run(1, 1, a.steps, a.batch, a.device) if a.device == 'cpu' else one
    many = run(a.nproc, max(1, cores // a.nproc) if a.device == 'cpu' else 1, a.steps, a.batch, a.device)
    diff = max(abs(x - y) / abs(x) for x, y in zip(one['losses'], many['losses']))
    print(json.dumps({'device': a.device, 'cores': cores, 'global_batch': a.batch, 'steps': a.steps,
                      'one_process_steps_per_s': round(one['steps_per_s'], 3),
                      'one_process_one_thread_steps_per_s': round(one_thread['steps_per_s'], 3),
                      f'{a.nproc}_processes_steps_per_s': round(many['steps_per_s'], 3),
                      'speed_up': round(many['steps_per_s'] / one['steps_per_s'], 3),
                      'speed_up_over_one_thread': round(many['steps_per_s'] / one_thread['steps_per_s'], 3),
                      'max_relative_loss_difference': diff}, indent=1))
