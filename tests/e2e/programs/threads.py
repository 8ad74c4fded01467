"""Correct control: pure Python with threads in every interpreter (each
interpreter's threads share only that interpreter's objects)."""
import json
import threading

results = []
lock = threading.Lock()


def work(n):
    data = [{"n": n, "i": i, "s": str(i) * 3} for i in range(2000)]
    text = json.dumps(data)
    with lock:
        results.append(len(json.loads(text)))


threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert results == [2000] * 4, results
print("threads done")
