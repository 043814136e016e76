import json, sys, math, numpy as np, scipy.sparse as sp, scipy.sparse.linalg as sla
from collections import Counter

def load(name):
    d = json.load(open(f'./{name}.json'))
    return d

def ndcg10(ranked, judged):
    gains = [judged.get(x, 0) for x in ranked[:10]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted([g for g in judged.values() if g > 0], reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return 0 if idcg == 0 else dcg / idcg

def recall100(ranked, judged):
    rel = [k for k, g in judged.items() if g > 0]
    top = set(ranked[:100])
    return sum(1 for r in rel if r in top) / len(rel) if rel else 0

def todocs(chunk_ids, chunkdoc, own):
    seen = []
    s = set()
    for c in chunk_ids:
        d = chunkdoc[c]
        if d in s or d == own: continue
        s.add(d); seen.append(d)
        if len(seen) >= 100: break
    return seen

def rrf(lists, weights, k=10):
    sc = {}
    for l, w in zip(lists, weights):
        for r, c in enumerate(l):
            sc[c] = sc.get(c, 0) + w / (k + r + 1)
    return [c for c, _ in sorted(sc.items(), key=lambda x: (-x[1], x[0]))]

def evaluate(d, runs, qs=None):
    chunkdoc = {c['id']: c['doc'] for c in d['chunks']}
    qs = qs if qs is not None else range(len(d['queries']))
    n = []; r = []
    for i in qs:
        q = d['queries'][i]
        docs = todocs(runs[i], chunkdoc, q['own'])
        n.append(ndcg10(docs, q['judged'])); r.append(recall100(docs, q['judged']))
    return np.mean(n), np.mean(r)

class Space:
    def __init__(self, d):
        chunks = d['chunks']
        self.ids = np.array([c['id'] for c in chunks])
        vocab = {}
        rows, cols, vals = [], [], []
        for i, c in enumerate(chunks):
            tf = Counter(c['stems'])
            for t, n in tf.items():
                j = vocab.setdefault(t, len(vocab))
                rows.append(i); cols.append(j); vals.append(n)
        self.vocab = vocab
        tf = sp.csr_matrix((vals, (rows, cols)), shape=(len(chunks), len(vocab)), dtype=np.float64)
        df = np.asarray((tf > 0).sum(0)).ravel()
        N = len(chunks)
        self.idf = np.log((N - df + 0.5) / (df + 0.5) + 1)
        X = tf.copy(); X.data = 1 + np.log(X.data)
        X = X @ sp.diags(self.idf)
        norms = np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel()); norms[norms == 0] = 1
        self.X = sp.diags(1 / norms) @ X
        self.X = self.X.tocsr()
    def qvec(self, stems):
        v = np.zeros(len(self.vocab))
        for t, n in Counter(stems).items():
            j = self.vocab.get(t)
            if j is not None: v[j] = (1 + math.log(n)) * self.idf[j]
        nv = np.linalg.norm(v)
        return v / nv if nv > 0 else v

def topk(scores, ids, k=200):
    k = min(k, len(scores))
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.lexsort((ids[idx], -scores[idx]))]
    return [int(ids[i]) for i in idx]
