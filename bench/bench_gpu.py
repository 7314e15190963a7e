"""On a CUDA machine: grain-training throughput of the GPU against every CPU core, decode speed of the shipped gm-drums
on the GPU against one CPU thread, and data-parallel NCCL through torchrun (`bench_ddp.py --device cuda`). Prints JSON.

    python bench/bench_gpu.py [--steps 120]
`tests/test_gpu.py` checks, on the same machine, that every model kind trains and plays there as on the CPU."""
import argparse, json, os, subprocess, sys, time
import torch

def grain_rate(m):
    "Grain steps per second after a warm-up quarter, from the run's own history."
    h = [x for x in m.history if 'loss' in x and x.get('stage') == 'grains']
    w = h[len(h) // 4]
    return (len(h) - 1 - h.index(w)) / (60 * (h[-1]['minutes'] - w['minutes']))

def training(steps):
    from latentplay.corpus import Corpus
    from latentplay.granular import GrainModel
    drums, out = Corpus.builtin('gm-drums', progress=False), {}
    torch.set_num_threads(os.cpu_count())
    for dev, batch, n in (('cpu', 16, max(20, steps // 3)), ('cuda', 16, steps), ('cuda', 64, steps), ('cuda', 256, steps)):
        m = GrainModel.fit(drums, max_steps=n, batch_size=batch, stages=(1.0, 1e-9), validate_every=1e9, progress=False, device=dev)
        r = grain_rate(m)
        out[f'{dev}_batch{batch}'] = {'steps_per_s': round(r, 2), 'segments_per_s': round(r * batch, 1)}
    out['gpu_over_all_cpu_cores_batch16'] = round(out['cuda_batch16']['steps_per_s'] / out['cpu_batch16']['steps_per_s'], 2)
    out['gpu_batch256_over_cpu_batch16_segments'] = round(out['cuda_batch256']['segments_per_s'] / out['cpu_batch16']['segments_per_s'], 1)
    out['cpu_threads'] = torch.get_num_threads()
    return out

def decoding(repeats=7):
    from latentplay.models import pretrained
    out = {}
    for name, dev, threads in (('cuda', 'cuda', os.cpu_count()), ('cpu_one_thread', 'cpu', 1)):
        torch.set_num_threads(threads)
        m = pretrained('gm-drums', device=dev); z = m.prior(1300, seed=0)      # 1300 grains: about 30 s
        for _ in range(2): m.decode(z)
        ts = []
        for _ in range(repeats):
            if dev == 'cuda': torch.cuda.synchronize()
            t = time.perf_counter(); s = m.decode(z)
            if dev == 'cuda': torch.cuda.synchronize()
            ts.append(time.perf_counter() - t)
        med = sorted(ts)[len(ts) // 2]
        out[name] = {'seconds_of_audio': round(s.duration, 2), 'median_s': round(med, 5), 'real_time_x': round(s.duration / med, 1)}
    out['gpu_over_one_thread'] = round(out['cpu_one_thread']['median_s'] / out['cuda']['median_s'], 1)
    return out

def nccl(steps):
    r = subprocess.run([sys.executable, str(__import__('pathlib').Path(__file__).with_name('bench_ddp.py')), '--device', 'cuda',
                        '--nproc', str(torch.cuda.device_count()), '--steps', str(steps)], capture_output=True, text=True)
    if r.returncode: sys.exit(r.stderr[-3000:])
    return json.loads(r.stdout[r.stdout.index('{'):])

if __name__ == '__main__':
    p = argparse.ArgumentParser(); p.add_argument('--steps', type=int, default=120); a = p.parse_args()
    if not torch.cuda.is_available(): sys.exit('bench_gpu.py needs a CUDA GPU (torch.cuda.is_available() is False here)')
    prop = torch.cuda.get_device_properties(0)
    print(json.dumps({'gpu': prop.name, 'gpus': torch.cuda.device_count(), 'cpus': os.cpu_count(), 'torch': torch.__version__,
                      'grain_training': training(a.steps), 'decode_gm_drums': decoding(), 'nccl_data_parallel': nccl(80)}, indent=1))
