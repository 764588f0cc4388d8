"""Slow NumPy references of OpenPose's body part connector (bodyPartConnectorBase.cpp / .cu,
docs/algorithms.md#body-part-connector): the PAF line score (getScoreAB, #paf-line-score), the
CPU-build grouping (createPeopleVector, #cpu-build-grouping), the GPU-build grouping
(pafVectorIntoPeopleVector, #gpu-build-grouping), the filter
(removePeopleBelowThresholdsAndFillFaces, #filtering-people) and the output
(peopleVectorToPeopleArray, #keypoints-and-person-score). float32 where OpenPose computes in
float."""

import numpy as np

f32 = np.float32


def paf_score(paf_x, paf_y, a, b, inter_threshold, inter_min_above, nms_threshold):
    h, w = paf_x.shape
    dx, dy = f32(b[0]) - f32(a[0]), f32(b[1]) - f32(a[1])
    n = max(5, min(25, int(np.sqrt(f32(5) * max(abs(dx), abs(dy))) + f32(0.5))))
    norm = np.sqrt(dx * dx + dy * dy)
    if not norm > 1e-6:
        return f32(0)
    ux, uy = dx / norm, dy / norm
    step_x, step_y = dx / f32(n), dy / f32(n)
    total, count = f32(0), 0
    for m in range(n):
        px = min(max(int(f32(a[0]) + f32(m) * step_x + f32(0.5)), 0), w - 1)
        py = min(max(int(f32(a[1]) + f32(m) * step_y + f32(0.5)), 0), h - 1)
        s = ux * paf_x[py, px] + uy * paf_y[py, px]
        if s > f32(inter_threshold):
            total = f32(total + s)
            count += 1
    if f32(count) / f32(n) > f32(inter_min_above):
        return total / f32(count)
    if norm < np.sqrt(f32(w * h)) / f32(150):
        return f32(float(f32(nms_threshold)) + 1e-6)
    return f32(0)


def _scores(model, pafs, peaks, counts, params):
    """{(limb, a, b): score} for a, b 0-based, score > 1e-6 only."""
    out = {}
    for l, ((pa, pb), (cx, cy)) in enumerate(zip(model.pairs, model.paf_indices)):
        for a in range(counts[pa]):
            for b in range(counts[pb]):
                s = paf_score(pafs[:, :, cx], pafs[:, :, cy], peaks[pa, a], peaks[pb, b],
                              params["inter_threshold"], params["inter_min_above_threshold"],
                              params["nms_threshold"])
                if s > 1e-6:
                    out[(l, a, b)] = s
    return out


def _new_person(model, slots, count, score):
    person = {"slot": [0] * model.num_parts, "count": count, "score": f32(score), "gone": False}
    for part, k in slots:
        person["slot"][part] = k
    return person


def group_gpu(model, peaks, counts, scores):
    sc = lambda part, k: peaks[part, k - 1, 2]  # noqa: E731  (k 1-based)
    candidates = []
    for (l, a, b), s in scores.items():
        pa, pb = model.pairs[l]
        total = f32(f32(s + f32(0.1) * sc(pa, a + 1)) + f32(0.1) * sc(pb, b + 1))
        candidates.append((float(total), float(s), l, a + 1, b + 1))
    candidates.sort(reverse=True)
    people, owner = [], {}
    for _, s, l, a, b in candidates:
        s = f32(s)
        pa, pb = model.pairs[l]
        oa, ob = owner.get((pa, a), -1), owner.get((pb, b), -1)
        if oa < 0 and ob < 0:
            owner[(pa, a)] = owner[(pb, b)] = len(people)
            people.append(_new_person(model, [(pa, a), (pb, b)], 2,
                                      f32(f32(sc(pa, a) + sc(pb, b)) + s)))
        elif (oa < 0) != (ob < 0):
            p = people[max(oa, ob)]
            part, k = (pb, b) if oa >= 0 else (pa, a)
            if p["slot"][part] == 0:
                p["slot"][part] = k
                p["count"] += 1
                p["score"] = f32(p["score"] + f32(sc(part, k) + s))
                owner[(part, k)] = max(oa, ob)
        elif oa == ob:
            people[oa]["score"] = f32(people[oa]["score"] + s)
        else:
            p1, p2 = people[min(oa, ob)], people[max(oa, ob)]
            if any(x > 0 and y > 0 for x, y in zip(p1["slot"], p2["slot"])):
                continue
            p1["slot"] = [x if x else y for x, y in zip(p1["slot"], p2["slot"])]
            p1["count"] += p2["count"]
            p1["score"] = f32(p1["score"] + f32(p2["score"] + s))
            p2["gone"] = True
            for key, value in owner.items():
                if value == max(oa, ob):
                    owner[key] = min(oa, ob)
    return [p for p in people if not p["gone"]]


def group_cpu(model, peaks, counts, scores):
    sc = lambda part, k: peaks[part, k - 1, 2]  # noqa: E731
    ear_limbs = model.ear_limbs
    people = []
    for l, (pa, pb) in enumerate(model.pairs):
        na, nb = counts[pa], counts[pb]
        if na == 0 or nb == 0:
            part = pb if na == 0 else pa
            for k in range(1, counts[part] + 1):
                if model.dedup_lone_peaks and any(p["slot"][part] == k for p in people):
                    continue
                people.append(_new_person(model, [(part, k)], 1, sc(part, k)))
            continue
        found = sorted(((float(s), a + 1, b + 1) for (ll, a, b), s in scores.items() if ll == l),
                       reverse=True)
        used_a, used_b, matched = set(), set(), []
        for s, a, b in found:
            if a in used_a or b in used_b:
                continue
            matched.append((a, b, f32(s)))
            if len(matched) == min(na, nb):
                break
            used_a.add(a)
            used_b.add(b)
        for a, b, s in matched:
            if l == 0:
                people.append(_new_person(model, [(pa, a), (pb, b)], 2,
                                          f32(f32(sc(pa, a) + sc(pb, b)) + s)))
            elif l in ear_limbs:
                for p in people:
                    if p["slot"][pa] == a and p["slot"][pb] == 0:
                        p["slot"][pb] = b
                    elif p["slot"][pb] == b and p["slot"][pa] == 0:
                        p["slot"][pa] = a
            else:
                holder = next((p for p in people if p["slot"][pa] == a), None)
                if holder is not None:
                    holder["slot"][pb] = b
                    holder["count"] += 1
                    holder["score"] = f32(holder["score"] + f32(sc(pb, b) + s))
                else:
                    people.append(_new_person(model, [(pa, a), (pb, b)], 2,
                                              f32(f32(sc(pa, a) + sc(pb, b)) + s)))
    return people


def _filter(model, people, params, maximize_positives):
    kept = []
    for p in people:
        count = p["count"]
        if not maximize_positives and model.foot_parts:
            feet = sum(1 for part in model.foot_parts if p["slot"][part] > 0)
            if feet:
                count -= feet
                if count <= 4:
                    continue
        if count >= params["min_subset_cnt"] and \
                p["score"] / f32(count) >= f32(params["min_subset_score"]):
            kept.append(p)
    return kept


def scores(model, pafs, peaks, counts, **params):
    """The reference pair scores of one image, to share between calls of :func:`connect`."""
    return _scores(model, pafs, peaks, counts, params)


def connect(model, pafs, peaks, counts, variant="gpu", scale=1.0, pair_scores=None, **params):
    """One image: pafs [H, W, 2L], peaks [P, M, 3], counts [P] -> (keypoints [T, P, 3], scores
    [T]). params: the five thresholds and maximize_positives, all given. pair_scores: what
    :func:`scores` returned for the same inputs (computed here if None)."""
    scores = pair_scores if pair_scores is not None else _scores(model, pafs, peaks, counts,
                                                                  params)
    people = (group_gpu if variant == "gpu" else group_cpu)(model, peaks, counts, scores)
    kept = _filter(model, people, params, params["maximize_positives"])
    if not kept and not params["maximize_positives"]:
        kept = _filter(model, people, params, True)
    keypoints = np.zeros((len(kept), model.num_parts, 3), np.float32)
    for i, p in enumerate(kept):
        for part, k in enumerate(p["slot"]):
            if k > 0:
                x, y, s = peaks[part, k - 1]
                keypoints[i, part] = (x * f32(scale), y * f32(scale), s)
    inverse = f32(1) / f32(model.num_parts + model.num_pairs)  # OpenPose multiplies by it
    person_scores = np.array([p["score"] * inverse for p in kept], np.float32)
    return keypoints, person_scores
