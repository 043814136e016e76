import sys; sys.path.insert(0, '/work/tools')
from proto import *
name = sys.argv[1]
ks = [int(x) for x in sys.argv[2].split(',')]
a = 0.3
d = load(name)
S = Space(d)
n = len(d['chunks'])
H = np.fromfile(f'./{name}.json.cv', dtype=np.float32).reshape(n, 384).astype(np.float64)
HQ = np.fromfile(f'./{name}.json.qv', dtype=np.float32).reshape(-1, 384).astype(np.float64)
pos = {int(c): i for i, c in enumerate(S.ids)}
qs = d['queries']
Q = np.array([S.qvec(q['stems']) for q in qs])
def unit(M): return M / np.maximum(np.linalg.norm(M, axis=-1, keepdims=True), 1e-12)
odd = [i for i in range(len(qs)) if i % 2 == 0]; even = [i for i in range(len(qs)) if i % 2 == 1]
for k in ks:
    U, s, Vt = sla.svds(S.X, k=k)
    L = unit(U * s); LQ = Q @ Vt.T
    D = np.hstack([math.sqrt(a) * unit(H), math.sqrt(1 - a) * L])
    DQ = np.hstack([math.sqrt(a) * unit(HQ), math.sqrt(1 - a) * unit(LQ)])
    plain = [topk(D @ DQ[i], S.ids) for i in range(len(qs))]
    print(name, 'k', k, 'vectors alone', '%.4f' % evaluate(d, plain)[0])
    for beta in [1, 2]:
      for T in [16, 32, 1000]:
        cr = []; bl = []
        for i, q in enumerate(qs):
            long = len(set(q['stems'])) > T
            fb = [pos[c] for c in q['bm25'][:10]]
            v = DQ[i] / max(np.linalg.norm(DQ[i]), 1e-12)
            if fb and not long: v = v + beta * D[fb].mean(0)
            cr.append(topk(D @ v, S.ids))
            bl.append(q['bm25'] if long else q['bm25x'])
        line = f' beta {beta} T {T}:'
        for w in [0.6, 1.0, 1.5]:
            r = evaluate(d, [rrf([q['bm25x'], cr[i]], [1, w]) for i, q in enumerate(qs)])
            r2 = evaluate(d, [rrf([bl[i], cr[i]], [1, w]) for i, q in enumerate(qs)])
            ro = evaluate(d, [rrf([bl[i], cr[i]], [1, w]) for i, q in enumerate(qs)], odd)
            re = evaluate(d, [rrf([bl[i], cr[i]], [1, w]) for i, q in enumerate(qs)], even)
            line += f' | w{w} {r[0]:.4f}/{r[1]:.3f} noexp {r2[0]:.4f}/{r2[1]:.3f} (o {ro[0]:.4f} e {re[0]:.4f})'
        print(line)
