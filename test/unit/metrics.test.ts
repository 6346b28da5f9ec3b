import * as assert from 'node:assert/strict';
import { classificationReport, confusionMatrix, formatFixed, macroF1, perClassRecall, accuracyOf, formatReport, uniqueLabels } from '../../src/core/metrics';

/*
 * Expected values below were produced with real scikit-learn 1.2.1 (Debian's python3-sklearn,
 * /usr/bin/python3) by running, for each case:
 *   classification_report(y_true, y_pred, labels=labels, digits=4, zero_division=0)               -> text
 *   classification_report(..., output_dict=True) rounded to 4 digits                               -> numbers
 *   confusion_matrix(y_true, y_pred, labels=labels or sorted(set(y_true) | set(y_pred)))            -> confusion
 * Per-class rows are [precision, recall, f1, support]. The tests do not need Python.
 */
interface Case {
  name: string; yTrue: string[]; yPred: string[]; labels: string[] | null;
  expect: { labels: string[]; perClass: Record<string, number[]>; accuracy: number | null; micro: number[] | null; macro: number[]; weighted: number[]; confusion: number[][]; text: string };
}
const SKLEARN_CASES: Case[] = [
 {
  "name": "binary",
  "yTrue": [
   "pos",
   "neg",
   "pos",
   "pos",
   "neg",
   "neg",
   "pos",
   "neg",
   "pos",
   "neg"
  ],
  "yPred": [
   "pos",
   "neg",
   "neg",
   "pos",
   "neg",
   "pos",
   "pos",
   "neg",
   "pos",
   "neg"
  ],
  "labels": null,
  "expect": {
   "labels": [
    "neg",
    "pos"
   ],
   "perClass": {
    "neg": [
     0.8,
     0.8,
     0.8,
     5
    ],
    "pos": [
     0.8,
     0.8,
     0.8,
     5
    ]
   },
   "accuracy": 0.8,
   "micro": null,
   "macro": [
    0.8,
    0.8,
    0.8,
    10
   ],
   "weighted": [
    0.8,
    0.8,
    0.8,
    10
   ],
   "confusion": [
    [
     4,
     1
    ],
    [
     1,
     4
    ]
   ],
   "text": "              precision    recall  f1-score   support\n\n         neg     0.8000    0.8000    0.8000         5\n         pos     0.8000    0.8000    0.8000         5\n\n    accuracy                         0.8000        10\n   macro avg     0.8000    0.8000    0.8000        10\nweighted avg     0.8000    0.8000    0.8000        10\n"
  }
 },
 {
  "name": "never-predicted class",
  "yTrue": [
   "a",
   "a",
   "b",
   "b",
   "c",
   "c",
   "c"
  ],
  "yPred": [
   "a",
   "b",
   "b",
   "b",
   "a",
   "a",
   "b"
  ],
  "labels": null,
  "expect": {
   "labels": [
    "a",
    "b",
    "c"
   ],
   "perClass": {
    "a": [
     0.3333,
     0.5,
     0.4,
     2
    ],
    "b": [
     0.5,
     1.0,
     0.6667,
     2
    ],
    "c": [
     0.0,
     0.0,
     0.0,
     3
    ]
   },
   "accuracy": 0.4286,
   "micro": null,
   "macro": [
    0.2778,
    0.5,
    0.3556,
    7
   ],
   "weighted": [
    0.2381,
    0.4286,
    0.3048,
    7
   ],
   "confusion": [
    [
     1,
     1,
     0
    ],
    [
     0,
     2,
     0
    ],
    [
     2,
     1,
     0
    ]
   ],
   "text": "              precision    recall  f1-score   support\n\n           a     0.3333    0.5000    0.4000         2\n           b     0.5000    1.0000    0.6667         2\n           c     0.0000    0.0000    0.0000         3\n\n    accuracy                         0.4286         7\n   macro avg     0.2778    0.5000    0.3556         7\nweighted avg     0.2381    0.4286    0.3048         7\n"
  }
 },
 {
  "name": "class only predicted",
  "yTrue": [
   "cat",
   "cat",
   "dog",
   "dog",
   "dog"
  ],
  "yPred": [
   "cat",
   "bird",
   "dog",
   "bird",
   "dog"
  ],
  "labels": null,
  "expect": {
   "labels": [
    "bird",
    "cat",
    "dog"
   ],
   "perClass": {
    "bird": [
     0.0,
     0.0,
     0.0,
     0
    ],
    "cat": [
     1.0,
     0.5,
     0.6667,
     2
    ],
    "dog": [
     1.0,
     0.6667,
     0.8,
     3
    ]
   },
   "accuracy": 0.6,
   "micro": null,
   "macro": [
    0.6667,
    0.3889,
    0.4889,
    5
   ],
   "weighted": [
    1.0,
    0.6,
    0.7467,
    5
   ],
   "confusion": [
    [
     0,
     0,
     0
    ],
    [
     1,
     1,
     0
    ],
    [
     1,
     0,
     2
    ]
   ],
   "text": "              precision    recall  f1-score   support\n\n        bird     0.0000    0.0000    0.0000         0\n         cat     1.0000    0.5000    0.6667         2\n         dog     1.0000    0.6667    0.8000         3\n\n    accuracy                         0.6000         5\n   macro avg     0.6667    0.3889    0.4889         5\nweighted avg     1.0000    0.6000    0.7467         5\n"
  }
 },
 {
  "name": "5-class",
  "yTrue": [
   "neurology",
   "gastro",
   "respiratory",
   "cardiology",
   "cardiology",
   "dermatology",
   "cardiology",
   "neurology",
   "dermatology",
   "cardiology",
   "dermatology",
   "gastro",
   "cardiology",
   "cardiology",
   "respiratory",
   "respiratory",
   "cardiology",
   "gastro",
   "cardiology",
   "dermatology",
   "respiratory",
   "cardiology",
   "dermatology",
   "cardiology",
   "gastro",
   "dermatology",
   "cardiology",
   "dermatology",
   "dermatology",
   "respiratory",
   "cardiology",
   "gastro",
   "cardiology",
   "dermatology",
   "gastro",
   "neurology",
   "respiratory",
   "gastro",
   "dermatology",
   "cardiology",
   "dermatology",
   "neurology",
   "dermatology",
   "gastro",
   "cardiology",
   "dermatology",
   "dermatology",
   "gastro",
   "neurology",
   "cardiology",
   "dermatology",
   "cardiology",
   "dermatology",
   "cardiology",
   "dermatology",
   "gastro",
   "respiratory",
   "dermatology",
   "respiratory",
   "neurology"
  ],
  "yPred": [
   "neurology",
   "neurology",
   "respiratory",
   "gastro",
   "cardiology",
   "dermatology",
   "cardiology",
   "neurology",
   "dermatology",
   "cardiology",
   "dermatology",
   "gastro",
   "gastro",
   "respiratory",
   "respiratory",
   "dermatology",
   "cardiology",
   "neurology",
   "cardiology",
   "dermatology",
   "respiratory",
   "cardiology",
   "neurology",
   "cardiology",
   "cardiology",
   "neurology",
   "respiratory",
   "dermatology",
   "dermatology",
   "cardiology",
   "neurology",
   "gastro",
   "cardiology",
   "dermatology",
   "gastro",
   "respiratory",
   "respiratory",
   "cardiology",
   "dermatology",
   "cardiology",
   "dermatology",
   "neurology",
   "dermatology",
   "gastro",
   "neurology",
   "respiratory",
   "gastro",
   "gastro",
   "neurology",
   "cardiology",
   "dermatology",
   "cardiology",
   "dermatology",
   "cardiology",
   "dermatology",
   "gastro",
   "respiratory",
   "dermatology",
   "cardiology",
   "neurology"
  ],
  "labels": null,
  "expect": {
   "labels": [
    "cardiology",
    "dermatology",
    "gastro",
    "neurology",
    "respiratory"
   ],
   "perClass": {
    "cardiology": [
     0.75,
     0.6667,
     0.7059,
     18
    ],
    "dermatology": [
     0.9333,
     0.7778,
     0.8485,
     18
    ],
    "gastro": [
     0.6667,
     0.6,
     0.6316,
     10
    ],
    "neurology": [
     0.4545,
     0.8333,
     0.5882,
     6
    ],
    "respiratory": [
     0.5556,
     0.625,
     0.5882,
     8
    ]
   },
   "accuracy": 0.7,
   "micro": null,
   "macro": [
    0.672,
    0.7006,
    0.6725,
    60
   ],
   "weighted": [
    0.7356,
    0.7,
    0.7088,
    60
   ],
   "confusion": [
    [
     12,
     0,
     2,
     2,
     2
    ],
    [
     0,
     14,
     1,
     2,
     1
    ],
    [
     2,
     0,
     6,
     2,
     0
    ],
    [
     0,
     0,
     0,
     5,
     1
    ],
    [
     2,
     1,
     0,
     0,
     5
    ]
   ],
   "text": "              precision    recall  f1-score   support\n\n  cardiology     0.7500    0.6667    0.7059        18\n dermatology     0.9333    0.7778    0.8485        18\n      gastro     0.6667    0.6000    0.6316        10\n   neurology     0.4545    0.8333    0.5882         6\n respiratory     0.5556    0.6250    0.5882         8\n\n    accuracy                         0.7000        60\n   macro avg     0.6720    0.7006    0.6725        60\nweighted avg     0.7356    0.7000    0.7088        60\n"
  }
 },
 {
  "name": "imbalanced",
  "yTrue": [
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "rare",
   "rare",
   "rare",
   "mid",
   "mid",
   "mid",
   "mid",
   "mid",
   "mid",
   "mid",
   "mid",
   "mid"
  ],
  "yPred": [
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "common",
   "mid",
   "mid",
   "rare",
   "rare",
   "common",
   "common",
   "mid",
   "mid",
   "mid",
   "mid",
   "mid",
   "mid",
   "common",
   "common",
   "common"
  ],
  "labels": null,
  "expect": {
   "labels": [
    "common",
    "mid",
    "rare"
   ],
   "perClass": {
    "common": [
     0.881,
     0.925,
     0.9024,
     40
    ],
    "mid": [
     0.75,
     0.6667,
     0.7059,
     9
    ],
    "rare": [
     0.5,
     0.3333,
     0.4,
     3
    ]
   },
   "accuracy": 0.8462,
   "micro": null,
   "macro": [
    0.7103,
    0.6417,
    0.6694,
    52
   ],
   "weighted": [
    0.8363,
    0.8462,
    0.8394,
    52
   ],
   "confusion": [
    [
     37,
     2,
     1
    ],
    [
     3,
     6,
     0
    ],
    [
     2,
     0,
     1
    ]
   ],
   "text": "              precision    recall  f1-score   support\n\n      common     0.8810    0.9250    0.9024        40\n         mid     0.7500    0.6667    0.7059         9\n        rare     0.5000    0.3333    0.4000         3\n\n    accuracy                         0.8462        52\n   macro avg     0.7103    0.6417    0.6694        52\nweighted avg     0.8363    0.8462    0.8394        52\n"
  }
 },
 {
  "name": "half-even tie (precision 1/32)",
  "yTrue": [
   "x",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y",
   "y"
  ],
  "yPred": [
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "x",
   "y",
   "y",
   "y",
   "y",
   "y"
  ],
  "labels": null,
  "expect": {
   "labels": [
    "x",
    "y"
   ],
   "perClass": {
    "x": [
     0.0312,
     1.0,
     0.0606,
     1
    ],
    "y": [
     1.0,
     0.1389,
     0.2439,
     36
    ]
   },
   "accuracy": 0.1622,
   "micro": null,
   "macro": [
    0.5156,
    0.5694,
    0.1523,
    37
   ],
   "weighted": [
    0.9738,
    0.1622,
    0.2389,
    37
   ],
   "confusion": [
    [
     1,
     0
    ],
    [
     31,
     5
    ]
   ],
   "text": "              precision    recall  f1-score   support\n\n           x     0.0312    1.0000    0.0606         1\n           y     1.0000    0.1389    0.2439        36\n\n    accuracy                         0.1622        37\n   macro avg     0.5156    0.5694    0.1523        37\nweighted avg     0.9738    0.1622    0.2389        37\n"
  }
 },
 {
  "name": "explicit labels with an absent class",
  "yTrue": [
   "a",
   "b",
   "a",
   "b"
  ],
  "yPred": [
   "a",
   "a",
   "a",
   "b"
  ],
  "labels": [
   "b",
   "a",
   "z"
  ],
  "expect": {
   "labels": [
    "b",
    "a",
    "z"
   ],
   "perClass": {
    "b": [
     1.0,
     0.5,
     0.6667,
     2
    ],
    "a": [
     0.6667,
     1.0,
     0.8,
     2
    ],
    "z": [
     0.0,
     0.0,
     0.0,
     0
    ]
   },
   "accuracy": null,
   "micro": [
    0.75,
    0.75,
    0.75,
    4
   ],
   "macro": [
    0.5556,
    0.5,
    0.4889,
    4
   ],
   "weighted": [
    0.8333,
    0.75,
    0.7333,
    4
   ],
   "confusion": [
    [
     1,
     1,
     0
    ],
    [
     0,
     2,
     0
    ],
    [
     0,
     0,
     0
    ]
   ],
   "text": "              precision    recall  f1-score   support\n\n           b     1.0000    0.5000    0.6667         2\n           a     0.6667    1.0000    0.8000         2\n           z     0.0000    0.0000    0.0000         0\n\n   micro avg     0.7500    0.7500    0.7500         4\n   macro avg     0.5556    0.5000    0.4889         4\nweighted avg     0.8333    0.7500    0.7333         4\n"
  }
 },
 {
  "name": "explicit labels, a subset",
  "yTrue": [
   "a",
   "b",
   "c",
   "a",
   "c"
  ],
  "yPred": [
   "a",
   "c",
   "c",
   "b",
   "b"
  ],
  "labels": [
   "a",
   "b"
  ],
  "expect": {
   "labels": [
    "a",
    "b"
   ],
   "perClass": {
    "a": [
     1.0,
     0.5,
     0.6667,
     2
    ],
    "b": [
     0.0,
     0.0,
     0.0,
     1
    ]
   },
   "accuracy": null,
   "micro": [
    0.3333,
    0.3333,
    0.3333,
    3
   ],
   "macro": [
    0.5,
    0.25,
    0.3333,
    3
   ],
   "weighted": [
    0.6667,
    0.3333,
    0.4444,
    3
   ],
   "confusion": [
    [
     1,
     1
    ],
    [
     0,
     0
    ]
   ],
   "text": "              precision    recall  f1-score   support\n\n           a     1.0000    0.5000    0.6667         2\n           b     0.0000    0.0000    0.0000         1\n\n   micro avg     0.3333    0.3333    0.3333         3\n   macro avg     0.5000    0.2500    0.3333         3\nweighted avg     0.6667    0.3333    0.4444         3\n"
  }
 },
 {
  "name": "chinese labels",
  "yTrue": [
   "心内科",
   "呼吸科",
   "消化科",
   "心内科",
   "呼吸科",
   "消化科"
  ],
  "yPred": [
   "心内科",
   "呼吸科",
   "心内科",
   "心内科",
   "消化科",
   "消化科"
  ],
  "labels": null,
  "expect": {
   "labels": [
    "呼吸科",
    "心内科",
    "消化科"
   ],
   "perClass": {
    "呼吸科": [
     1.0,
     0.5,
     0.6667,
     2
    ],
    "心内科": [
     0.6667,
     1.0,
     0.8,
     2
    ],
    "消化科": [
     0.5,
     0.5,
     0.5,
     2
    ]
   },
   "accuracy": 0.6667,
   "micro": null,
   "macro": [
    0.7222,
    0.6667,
    0.6556,
    6
   ],
   "weighted": [
    0.7222,
    0.6667,
    0.6556,
    6
   ],
   "confusion": [
    [
     1,
     0,
     1
    ],
    [
     0,
     2,
     0
    ],
    [
     0,
     1,
     1
    ]
   ],
   "text": "              precision    recall  f1-score   support\n\n         呼吸科     1.0000    0.5000    0.6667         2\n         心内科     0.6667    1.0000    0.8000         2\n         消化科     0.5000    0.5000    0.5000         2\n\n    accuracy                         0.6667         6\n   macro avg     0.7222    0.6667    0.6556         6\nweighted avg     0.7222    0.6667    0.6556         6\n"
  }
 },
{
 "name": "nothing predicted correctly (sklearn prints float supports)",
 "yTrue": [
  "ham",
  "spam",
  "spam",
  "ham",
  "eggs"
 ],
 "yPred": [
  "spam",
  "ham",
  "eggs",
  "eggs",
  "ham"
 ],
 "labels": null,
 "expect": {
  "labels": [
   "eggs",
   "ham",
   "spam"
  ],
  "perClass": {
   "eggs": [
    0.0,
    0.0,
    0.0,
    1
   ],
   "ham": [
    0.0,
    0.0,
    0.0,
    2
   ],
   "spam": [
    0.0,
    0.0,
    0.0,
    2
   ]
  },
  "accuracy": 0.0,
  "micro": null,
  "macro": [
   0.0,
   0.0,
   0.0,
   5
  ],
  "weighted": [
   0.0,
   0.0,
   0.0,
   5
  ],
  "confusion": [
   [
    0,
    1,
    0
   ],
   [
    1,
    0,
    1
   ],
   [
    1,
    1,
    0
   ]
  ],
  "text": "              precision    recall  f1-score   support\n\n        eggs     0.0000    0.0000    0.0000       1.0\n         ham     0.0000    0.0000    0.0000       2.0\n        spam     0.0000    0.0000    0.0000       2.0\n\n    accuracy                         0.0000       5.0\n   macro avg     0.0000    0.0000    0.0000       5.0\nweighted avg     0.0000    0.0000    0.0000       5.0\n"
 }
}
];

// Python rounded the expected numbers half-to-even; compare at 4 digits the same way.
const r4 = (x: number) => Number(formatFixed(x, 4));

describe('metrics: classificationReport == scikit-learn', () => {
  for (const c of SKLEARN_CASES) {
    it(c.name, () => {
      const r = classificationReport(c.yTrue, c.yPred, c.labels ?? undefined);
      assert.deepEqual(r.labels, c.expect.labels);
      assert.deepEqual(r.confusion, c.expect.confusion);
      for (const l of c.expect.labels) {
        const m = r.perClass[l];
        assert.deepEqual([r4(m.precision), r4(m.recall), r4(m.f1), m.support], c.expect.perClass[l], `class ${l}`);
      }
      assert.deepEqual([r4(r.macro.precision), r4(r.macro.recall), r4(r.macro.f1), r.macro.support], c.expect.macro);
      assert.deepEqual([r4(r.weighted.precision), r4(r.weighted.recall), r4(r.weighted.f1), r.weighted.support], c.expect.weighted);
      if (c.expect.accuracy !== null) { assert.equal(r4(r.accuracy), c.expect.accuracy); assert.equal(r.micro, undefined); }
      if (c.expect.micro !== null) {
        assert.ok(r.micro);
        assert.deepEqual([r4(r.micro.precision), r4(r.micro.recall), r4(r.micro.f1), r.micro.support], c.expect.micro);
      }
      assert.equal(r.text, c.expect.text);
      assert.equal(formatReport(r), c.expect.text);
      assert.equal(r.split, 'test');
    });
  }
  it('keeps the split name', () => {
    assert.equal(classificationReport(['a'], ['a'], undefined, 'cross-validation').split, 'cross-validation');
  });
  it('rejects mismatched lengths', () => {
    assert.throws(() => classificationReport(['a', 'b'], ['a']), /2 items/);
  });
  it('handles empty input without NaN', () => {
    const r = classificationReport([], [], ['a', 'b']);
    assert.equal(r.accuracy, 0);
    assert.equal(r.macro.f1, 0);
    assert.ok(!r.text.includes('NaN'));
  });
});

describe('metrics: helpers', () => {
  it('formatFixed rounds half-to-even on the exact binary value like Python', () => {
    assert.equal(formatFixed(0.03125), '0.0312');   // exact tie → even
    assert.equal(formatFixed(0.03135), '0.0314');   // stored as 0.031350000000000003…
    assert.equal(formatFixed(0.00015), '0.0001');   // stored as 0.000149999…
    assert.equal(formatFixed(0.99995), '1.0000');   // stored as 0.99995000000000000551…
    assert.equal(formatFixed(0.999951), '1.0000');
    assert.equal(formatFixed(0), '0.0000');
    assert.equal(formatFixed(1), '1.0000');
    assert.equal(formatFixed(2 / 3), '0.6667');
    assert.equal(formatFixed(0.5, 0), '0');
    assert.equal(formatFixed(1.5, 0), '2');
  });
  it('uniqueLabels sorts by code point', () => {
    assert.deepEqual(uniqueLabels(['b', 'B', 'a'], ['心', 'A']), ['A', 'B', 'a', 'b', '心']);
  });
  it('confusionMatrix ignores labels outside the given list', () => {
    assert.deepEqual(confusionMatrix(['a', 'b', 'c'], ['a', 'c', 'b'], ['a', 'b']).matrix, [[1, 0], [0, 0]]);
  });
  it('macroF1 on ids equals the report macro f1 for every sklearn case', () => {
    for (const c of SKLEARN_CASES) {
      if (c.labels) continue;
      const labs = c.expect.labels;
      const id = (s: string) => labs.indexOf(s);
      const f = macroF1(c.yTrue.map(id), c.yPred.map(id), labs.length);
      assert.equal(r4(f), c.expect.macro[2], c.name);
    }
  });
  it('macroF1 averages only over classes present in y_true or y_pred', () => {
    // class 0: p=2/3 r=1 f1=0.8; class 1: p=1 r=0.5 f1=2/3; class 2 never occurs and is ignored (sklearn: 0.7333)
    assert.equal(r4(macroF1([0, 0, 1, 1], [0, 0, 1, 0], 3)), 0.7333);
    assert.equal(macroF1([], [], 3), 0);
  });
  it('perClassRecall and accuracyOf', () => {
    assert.deepEqual(perClassRecall([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], ['a', 'b', 'c']), { a: 0.5, b: 2 / 3, c: 0 });
    assert.equal(accuracyOf([0, 1, 2, 2], [0, 1, 1, 2]), 0.75);
  });
});
