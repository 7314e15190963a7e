"""How long `import latentplay` takes, and what the first use of each layer costs (medians of fresh interpreters).
Prints JSON. Usage: python bench/bench_import.py [--runs 7]"""
import json, statistics, subprocess, sys, argparse

CASES = {
    'python_itself': 'pass',
    'import latentplay': 'import latentplay',
    'lp.load (sound layer)': 'import latentplay as lp; lp.load',
    'lp.descriptors (torch)': 'import latentplay as lp; lp.descriptors',
    'lp.Corpus': 'import latentplay as lp; lp.Corpus',
}

def timed(code: str) -> float:
    wrapper = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, '-c', wrapper], capture_output=True, text=True, check=True).stdout)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(); ap.add_argument('--runs', type=int, default=7); a = ap.parse_args()
    timed('import latentplay as lp; lp.Corpus; lp.descriptors')   # warm the OS file cache and bytecode
    res = {name: statistics.median(timed(code) for _ in range(a.runs)) for name, code in CASES.items()}
    print(json.dumps(dict(bench='import', runs=a.runs, median_seconds={k: round(v, 4) for k, v in res.items()}), indent=2))
