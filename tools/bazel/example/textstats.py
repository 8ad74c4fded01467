"""A small library under test: word statistics over text, pure Python with
stdlib modules that are isolated per interpreter (re, json, collections)."""

import collections
import json
import re

_WORD = re.compile(r"[A-Za-z']+")


def words(text):
    """The words of `text`, lower-cased."""
    return [w.lower() for w in _WORD.findall(text)]


def frequencies(text):
    """A Counter of the words of `text`."""
    return collections.Counter(words(text))


def top(text, n):
    """The n most frequent words, most frequent first, ties alphabetical."""
    counts = frequencies(text)
    return sorted(counts, key=lambda w: (-counts[w], w))[:n]


def to_json(text):
    """The frequencies as a JSON object with sorted keys."""
    return json.dumps(dict(frequencies(text)), sort_keys=True)


def from_json(data):
    """The inverse of to_json."""
    return collections.Counter(json.loads(data))
