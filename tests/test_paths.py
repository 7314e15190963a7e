"Tests of latentplay.paths: curves, interpolation, random walks, re-timing and loops on latent tensors."
import math
import numpy as np
import pytest
import torch

from latentplay.paths import (line, slerp, interpolate, circle, spiral, random_walk, vary_speed, retime, loop,
                              path_length)

A, B = torch.tensor([2., 0, 0, 0]), torch.tensor([0., 2, 0, 0])
Z = torch.tensor([1., -1, 0.5, 0, 0, 0])
P = torch.stack([torch.arange(5.), torch.zeros(5), torch.zeros(5)], -1)        # a straight path of length 4


def steps_of(p): return (p[..., 1:, :] - p[..., :-1, :]).norm(dim=-1)


# ---- line, slerp, interpolate ----------------------------------------------------------------------------------------
def test_line_endpoints_and_spacing():
    L = line(A, B, 5)
    assert L.shape == (5, 4) and L.dtype == torch.float32
    assert torch.equal(L[0], A) and torch.equal(L[-1], B)
    assert torch.allclose(steps_of(L), steps_of(L)[0].expand(4))
    assert torch.equal(line(A, B, 1), A[None])
    assert line(np.zeros(3), np.ones(3), 4).dtype == torch.float32              # numpy in, float32 tensor out
    assert line(torch.zeros(2, 3), torch.ones(3), 6).shape == (2, 6, 3)         # batches of points


def test_slerp_keeps_norm_and_falls_back():
    S = slerp(A, B, 9)
    assert torch.equal(S[0], A) and torch.equal(S[-1], B)
    assert torch.allclose(S.norm(dim=-1), torch.full((9,), 2.), atol=1e-5)
    assert torch.allclose(S[4], torch.tensor([2 ** .5, 2 ** .5, 0, 0]), atol=1e-5)
    assert torch.allclose(slerp(A, 3 * A, 4), line(A, 3 * A, 4))               # parallel
    assert torch.allclose(slerp(A, -A, 3)[1], torch.zeros(4), atol=1e-6)       # anti-parallel: through the origin
    assert torch.allclose(slerp(torch.zeros(4), B, 3), line(torch.zeros(4), B, 3))   # a zero point


@pytest.mark.parametrize('q', [B, 2 * A, -A, torch.zeros(4)])
def test_slerp_gradients_are_finite(q):
    p = A.clone().requires_grad_()
    slerp(p, q, 7).sum().backward()
    assert torch.isfinite(p.grad).all()


def test_interpolate_scalar_and_sequence():
    assert interpolate(A, B, 0.5).shape == (4,)
    assert torch.allclose(interpolate(A, B, 0.5), (A + B) / 2)
    assert interpolate(A, B, [0, .3, 1], mode='spherical').shape == (3, 4)
    assert torch.allclose(interpolate(A, B, torch.linspace(0, 1, 5), 'spherical'), slerp(A, B, 5))


def test_interpolation_bad_inputs():
    with pytest.raises(ValueError, match='at least 1'): line(A, B, 0)
    with pytest.raises(ValueError, match='whole number'): line(A, B, 2.5)
    with pytest.raises(ValueError, match='different latent sizes'): slerp(A, torch.zeros(3), 4)
    with pytest.raises(ValueError, match='NaN'): line(A, torch.tensor([0., float('nan'), 0, 0]), 3)
    with pytest.raises(ValueError, match='NaN or infinite'): line(np.array([np.inf, 0, 0, 0]), B, 3)
    with pytest.raises(ValueError, match=r'\[0, 1\]'): interpolate(A, B, -0.1)
    with pytest.raises(ValueError, match='spherical'): interpolate(A, B, 0.5, mode='cubic')
    with pytest.raises(ValueError, match='single number'): line(1.0, 2.0, 3)
    with pytest.raises(ValueError, match='batch shapes'): line(torch.zeros(2, 4), torch.zeros(3, 4), 3)


# ---- circle and spiral -----------------------------------------------------------------------------------------------
def test_circle_is_a_closed_even_loop():
    C = circle(Z, radius=2.0, n_steps=12)
    assert C.shape == (12, 6)
    assert torch.allclose((C - Z).norm(dim=-1), torch.full((12,), 2.), atol=1e-5)
    assert torch.allclose(C[0], Z + torch.tensor([2., 0, 0, 0, 0, 0]))
    st = steps_of(loop(C, 2))                                                   # looped: the join is an ordinary step
    assert torch.allclose(st, st[0].expand_as(st), atol=1e-5)
    assert torch.allclose(C.mean(0), Z, atol=1e-5)
    assert torch.allclose(circle(Z, 1, 4, phase=math.pi / 2)[0], Z + torch.tensor([0., 1, 0, 0, 0, 0]), atol=1e-6)
    assert torch.allclose(circle(Z, 1, 8, turns=2)[:4], circle(Z, 1, 8, turns=2)[4:], atol=1e-5)


def test_circle_axes_are_orthonormalised():
    axes = torch.tensor([[0., 0, 3, 0, 0, 0], [0., 0, 1, 1, 0, 0]])
    C = circle(Z, 1.5, 32, axes=axes)
    off = C - Z
    assert torch.allclose(off[:, [0, 1, 4, 5]], torch.zeros(32, 4), atol=1e-6)
    assert torch.allclose(off.norm(dim=-1), torch.full((32,), 1.5), atol=1e-5)
    assert torch.allclose(C[0], Z + torch.tensor([0., 0, 1.5, 0, 0, 0]), atol=1e-6)   # starts along the first axis


def test_circle_bad_inputs():
    with pytest.raises(ValueError, match='radius'): circle(Z, -1.0)
    with pytest.raises(ValueError, match='parallel'): circle(Z, axes=torch.stack([Z, -2 * Z]))
    with pytest.raises(ValueError, match='zero'): circle(Z, axes=torch.stack([torch.zeros(6), Z]))
    with pytest.raises(ValueError, match=r'\[2, 6\]'): circle(Z, axes=torch.eye(3, 6))
    with pytest.raises(ValueError, match='at least 2 latent dimensions'): circle([0.])
    with pytest.raises(ValueError, match='at least 1'): circle(Z, n_steps=0)


def test_spiral_radius_and_ends():
    S = spiral(Z, 0.5, 2.0, n_steps=40, turns=3)
    assert S.shape == (40, 6)
    assert torch.allclose((S - Z).norm(dim=-1), torch.linspace(.5, 2, 40), atol=1e-5)
    assert torch.allclose(S[-1], Z + torch.tensor([2., 0, 0, 0, 0, 0]), atol=1e-5)
    assert torch.allclose(spiral(Z, 1, 1, 17, turns=1)[:-1], circle(Z, 1, 16), atol=1e-5)   # = a circle, closed
    with pytest.raises(ValueError, match='r0'): spiral(Z, r0=-0.1)


def test_curves_are_differentiable():
    r = torch.tensor(1.5, requires_grad=True)
    c = Z.clone().requires_grad_()
    (circle(c, r, 8).sum() + spiral(c, 0.0, r, 8).sum()).backward()
    assert r.grad is not None and torch.isfinite(c.grad).all()


# ---- random walk -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('d', [1, 4, 32])
def test_random_walk_mean_step(d):
    W = random_walk(torch.zeros(d), 3001, step_size=0.05, seed=1)
    assert W.shape == (3001, d) and torch.equal(W[0], torch.zeros(d))
    assert abs(float(steps_of(W).mean()) - 0.05) < 0.003


def test_random_walk_seeded_and_global_rng_untouched():
    torch.manual_seed(123); before = torch.rand(1)
    torch.manual_seed(123)
    w1, w2 = random_walk(torch.zeros(5), 40, seed=7), random_walk(np.zeros(5), 40, seed=7)
    assert torch.equal(w1, w2) and not torch.equal(w1, random_walk(torch.zeros(5), 40, seed=8))
    assert torch.equal(torch.rand(1), before)                                    # the global generator was not used
    assert random_walk(torch.zeros(2, 3), 10).shape == (2, 10, 3)


def test_random_walk_momentum_and_bound():
    cos = lambda w: torch.nn.functional.cosine_similarity(w[2:] - w[1:-1], w[1:-1] - w[:-2], dim=-1).mean()
    Wm = random_walk(torch.zeros(8), 2001, 0.05, seed=1, momentum=0.9)
    assert cos(Wm) > 0.7 and abs(float(steps_of(Wm).mean()) - 0.05) < 0.005
    assert abs(float(cos(random_walk(torch.zeros(8), 2001, 0.05, seed=1)))) < 0.1
    for m in (0.0, 0.8):
        Wb = random_walk(torch.ones(4), 600, 0.3, seed=0, momentum=m, bound=0.5)
        assert (Wb - 1).norm(dim=-1).max() <= 0.5 + 1e-5
    assert torch.equal(random_walk(torch.ones(3), 20, bound=0.0), torch.ones(20, 3))


def test_random_walk_bad_inputs():
    with pytest.raises(ValueError, match='at least 1'): random_walk(torch.zeros(3), 0)
    with pytest.raises(ValueError, match='momentum'): random_walk(torch.zeros(3), 10, momentum=1.0)
    with pytest.raises(ValueError, match='bound'): random_walk(torch.zeros(3), 10, bound=-0.1)
    with pytest.raises(ValueError, match='step_size'): random_walk(torch.zeros(3), 10, step_size=-1)
    with pytest.raises(ValueError, match='NaN'): random_walk([0., float('nan')], 10)


# ---- vary_speed and retime -------------------------------------------------------------------------------------------
def test_vary_speed_lengths_and_ends():
    assert torch.allclose(vary_speed(P), P, atol=1e-5)
    assert vary_speed(P, 2.0).shape == (2, 3) and vary_speed(P, 0.5).shape == (10, 3)
    V = vary_speed(P, speed=[0.5, 2.0])
    assert V.shape == (round(5 / 1.25), 3)
    assert torch.equal(V[0], P[0]) and torch.allclose(V[-1], P[-1])
    g = steps_of(V)
    assert (g[1:] >= g[:-1]).all()                                               # accelerating


def test_vary_speed_jitter_is_seeded_and_covers_the_path():
    V = vary_speed(P, 0.25, jitter=0.8, seed=2)
    assert V.shape == (20, 3) and torch.equal(V, vary_speed(P, 0.25, jitter=0.8, seed=2))
    assert not torch.equal(V, vary_speed(P, 0.25, jitter=0.8, seed=3))
    assert torch.allclose(V[-1], P[-1]) and torch.equal(V[0], P[0])
    assert abs(float(path_length(V)) - 4.0) < 1e-4                                # same road, travelled once
    assert (V[1:, 0] >= V[:-1, 0]).all()                                         # always forwards
    g = steps_of(V)
    assert g.max() / g.min() > 2                                                 # uneven steps


def test_vary_speed_batch_single_point_and_gradients():
    assert vary_speed(torch.zeros(2, 7, 3), 0.5).shape == (2, 14, 3)
    assert torch.equal(vary_speed(P[:1], 0.5), P[:1].expand(2, 3))
    x = P.clone().requires_grad_()
    vary_speed(x, [0.3, 1.0, 2.0]).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_vary_speed_bad_inputs():
    with pytest.raises(ValueError, match='negative'): vary_speed(P, [1.0, -1.0])
    with pytest.raises(ValueError, match='zero everywhere'): vary_speed(P, 0.0)
    with pytest.raises(ValueError, match='jitter'): vary_speed(P, jitter=1.5)
    with pytest.raises(ValueError, match='no points'): vary_speed(torch.zeros(0, 3))
    with pytest.raises(ValueError, match=r'p\[None\]'): vary_speed(torch.zeros(3))
    with pytest.raises(ValueError, match='1-D'): vary_speed(P, torch.ones(2, 2))


def test_retime():
    assert retime(P, factor=2).shape == (9, 3)
    assert torch.allclose(retime(P, factor=2)[1], torch.tensor([0.5, 0, 0]))
    assert torch.equal(retime(P, n_steps=3), P[[0, 2, 4]])
    assert torch.equal(retime(P, factor=1), P)
    assert retime(P, factor=0.5).shape == (3, 3)
    assert retime(P, factor=1.3).shape == (round(4 * 1.3) + 1, 3)
    assert retime(torch.zeros(4, 2, 7, 3), n_steps=5).shape == (4, 2, 5, 3)
    assert torch.equal(retime(P[:1], n_steps=4), P[:1].expand(4, 3))
    assert torch.equal(retime(P, n_steps=1), P[:1])


def test_retime_bad_inputs():
    with pytest.raises(ValueError, match='exactly one'): retime(P)
    with pytest.raises(ValueError, match='exactly one'): retime(P, factor=2, n_steps=4)
    with pytest.raises(ValueError, match='positive'): retime(P, factor=0)
    with pytest.raises(ValueError, match='at least 1'): retime(P, n_steps=0)
    with pytest.raises(ValueError, match='no points'): retime(torch.zeros(0, 3), n_steps=2)


# ---- loop and path_length --------------------------------------------------------------------------------------------
def test_loop_modes():
    abc = torch.tensor([[0.], [1.], [2.]])
    assert loop(abc, 3)[:, 0].tolist() == [0, 1, 2] * 3
    assert loop(abc, 2, 'backward')[:, 0].tolist() == [2, 1, 0, 2, 1, 0]
    assert loop(abc, 2, 'pingpong')[:, 0].tolist() == [0, 1, 2, 1, 0]
    assert loop(abc, 4, 'pingpong')[:, 0].tolist() == [0, 1, 2, 1, 0, 1, 2, 1, 0]
    assert torch.equal(loop(abc, 1, 'pingpong'), abc)
    assert loop(torch.zeros(2, 5, 3), 3, 'pingpong').shape == (2, 5 + 2 * 4, 3)
    assert loop(abc[:1], 3, 'pingpong').shape == (3, 1)
    with pytest.raises(ValueError, match='at least 1'): loop(abc, 0)
    with pytest.raises(ValueError, match='pingpong'): loop(abc, 2, mode='shuffle')


def test_path_length():
    assert abs(float(path_length(P)) - 4.0) < 1e-6
    assert float(path_length(P[:1])) == 0.0
    assert path_length(torch.zeros(3, 5, 2)).shape == (3,)
    assert abs(float(path_length(circle(torch.zeros(2), n_steps=2000))) - 2 * math.pi * 1999 / 2000) < 1e-3
    x = P.clone().requires_grad_(); path_length(loop(x, 2)).backward()             # repeated points: finite gradient
    assert torch.isfinite(x.grad).all()
    with pytest.raises(ValueError, match='no points'): path_length(torch.zeros(0, 2))


# ---- old keyword names ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize('f, args, old, new', [
    (line, (A, B), 'steps', 'n_steps'), (slerp, (A, B), 'steps', 'n_steps'), (circle, (Z,), 'steps', 'n_steps'),
    (spiral, (Z,), 'steps', 'n_steps'), (random_walk, (Z,), 'steps', 'n_steps'), (retime, (P,), 'length', 'n_steps')])
def test_old_keywords_still_work_and_warn(f, args, old, new):
    with pytest.warns(DeprecationWarning, match=f"{f.__name__}\\({old}=\\.\\.\\.\\) is now {new}="):
        out = f(*args, **{old: 7})
    assert torch.equal(out, f(*args, **{new: 7}))
    with pytest.raises(TypeError, match=f'pass only {new}='): f(*args, **{old: 7, new: 7})


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_paths_follow_the_device():
    z = torch.zeros(4, device='cuda')
    for out in (line(z, z + 1, 5), slerp(z + 1, z + 2, 5), circle(z), spiral(z), random_walk(z, 10, bound=1.0),
                vary_speed(line(z, z + 1, 5), [0.5, 2.0], jitter=0.5), retime(line(z, z + 1, 5), factor=2),
                loop(line(z, z + 1, 5), 2, 'pingpong'), path_length(line(z, z + 1, 5))):
        assert out.device.type == 'cuda'
    assert torch.allclose(random_walk(z, 10, seed=4).cpu(), random_walk(z.cpu(), 10, seed=4))
