// bench_dump: how long one faulthandler dump of a busy process takes.
//
// Not a test: it prints, never asserts (the target is under 10 ms per dump;
// see tools/bench/bench_dump.md). It starts CPython, creates 8 own-GIL
// subinterpreters, each with 4 Python threads (its main thread and 3
// threading.Thread) that recurse to about 50 Python frames and then block
// in os.read() on a pipe. Then, from the main thread, it times the dump the
// crash handler writes (faulthandler/thread_dump.h: DumpHeader,
// DumpPythonThreads of every thread of every interpreter, DumpNativeStack,
// DumpEnd), text and JSON writers both on descriptors opened on /dev/null,
// `--repeats` times, and prints the minimum and median per dump, and the
// threads, frames and bytes one dump writes.
//
//   bazel run --config=py312 //tools/bench:bench_dump -- [--interpreters 8]
//       [--threads 4] [--depth 50] [--repeats 20]
#include <Python.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "faulthandler/signal_safe_writer.h"
#include "faulthandler/thread_dump.h"
#include "interpsan_python_config.h"
#include "runtime/interpreter_registry.h"
#include "runtime/own_gil_interpreter.h"
#include "runtime/python_shim.h"

namespace {

struct Options {
  int interpreters = 8;
  int threads = 4;  // per interpreter, its main thread included
  int depth = 50;   // Python frames per thread, about
  int repeats = 20;
};

// The program each interpreter runs. Every thread recurses until its stack
// holds `depth` frames, says so on the ready pipe and blocks reading the
// release pipe (EOF once the benchmark closes its write end).
const char* kProgram = R"PY(
import os
import sys
import threading

def sits_deep(n):
    if n <= 1:
        os.write(READY, b"x")
        os.read(RELEASE, 1)
        return
    sits_deep(n - 1)

# threading.Thread adds 3 frames of its own (_bootstrap, _bootstrap_inner, run).
helpers = [threading.Thread(target=sits_deep, args=(DEPTH - 3,)) for _ in range(THREADS - 1)]
for t in helpers:
    t.start()
sits_deep(DEPTH - 1)  # below <module>
for t in helpers:
    t.join()
)PY";

void RunInterpreter(int index, const Options& opt, int ready_w, int release_r,
                    int* ok) {
  std::string why;
  PyThreadState* tstate = interpsan::NewOwnGilInterpreter(&why);
  if (tstate == nullptr) {
    fprintf(stderr, "bench_dump: interpreter %d: %s\n", index, why.c_str());
    *ok = 0;
    // Unblock the main thread, which waits for every thread's byte.
    for (int i = 0; i < opt.threads; i++) (void)!write(ready_w, "x", 1);
    return;
  }
  interpsan::InterpreterRegistry::SetIndex(
      interpsan::InterpreterRegistry::CurrentSlot(), index, true);
  PyObject* globals = PyDict_New();
  PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins());
  PyObject* v;
  v = PyLong_FromLong(ready_w), PyDict_SetItemString(globals, "READY", v),
  Py_DECREF(v);
  v = PyLong_FromLong(release_r), PyDict_SetItemString(globals, "RELEASE", v),
  Py_DECREF(v);
  v = PyLong_FromLong(opt.depth), PyDict_SetItemString(globals, "DEPTH", v),
  Py_DECREF(v);
  v = PyLong_FromLong(opt.threads), PyDict_SetItemString(globals, "THREADS", v),
  Py_DECREF(v);
  PyObject* result = PyRun_String(kProgram, Py_file_input, globals, globals);
  if (result == nullptr) {
    PyErr_Print();
    *ok = 0;
  }
  Py_XDECREF(result);
  Py_DECREF(globals);
  Py_EndInterpreter(tstate);
}

struct Dump {
  char text_buf[64 * 1024];
  char json_buf[64 * 1024];
  char maps_buf[512 * 1024];
  interpsan::DumpScratch scratch;
};

// One dump as the crash handler writes it (reason "request": no signal
// context here, so the native stack is unwound from this call).
void DumpOnce(Dump* d, int text_fd, int json_fd, bool with_native) {
  interpsan::SignalSafeWriter text(d->text_buf, sizeof(d->text_buf), text_fd);
  interpsan::SignalSafeWriter json(d->json_buf, sizeof(d->json_buf), json_fd);
  interpsan::DumpHeader(&text, &json, "request", SIGUSR1, nullptr, nullptr);
  interpsan::DumpPythonThreads(&text, &json, "request", nullptr,
                               /*all_threads=*/true, &d->scratch);
  if (with_native) {
    interpsan::DumpNativeStack(&text, &json, "request", d->maps_buf,
                               sizeof(d->maps_buf),
                               "Native stack of the dumping thread", nullptr);
  }
  interpsan::DumpEnd(&json, "request", true);
}

size_t CountOccurrences(const std::string& haystack, const char* needle) {
  size_t count = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    count++;
  }
  return count;
}

std::string ReadAll(int fd) {
  std::string out;
  lseek(fd, 0, SEEK_SET);
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0)
    out.append(buf, static_cast<size_t>(n));
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void Usage() {
  fprintf(stderr,
          "usage: bench_dump [--interpreters N] [--threads N] [--depth N] "
          "[--repeats N]\n");
  exit(2);
}

Options Parse(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (i + 1 >= argc) Usage();
    int value = atoi(argv[++i]);
    if (value < 1) Usage();
    if (arg == "--interpreters") {
      opt.interpreters = value;
    } else if (arg == "--threads") {
      opt.threads = value;
    } else if (arg == "--depth") {
      opt.depth = std::max(value, 4);
    } else if (arg == "--repeats") {
      opt.repeats = value;
    } else {
      Usage();
    }
  }
  return opt;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = Parse(argc, argv);

  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.parse_argv = 0;
  config.install_signal_handlers = 0;
  PyConfig_SetBytesString(&config, &config.home, INTERPSAN_PYTHON_HOME);
  PyConfig_SetBytesString(&config, &config.executable,
                          INTERPSAN_PYTHON_EXECUTABLE);
  PyStatus status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) Py_ExitStatusException(status);
  interpsan::InterpreterRegistry::SetIndex(
      interpsan::InterpreterRegistry::CurrentSlot(), -1, true);
  PyThreadState* main_tstate = PyEval_SaveThread();

  int ready[2], release[2];
  if (pipe(ready) != 0 || pipe(release) != 0) {
    perror("pipe");
    return 1;
  }
  std::vector<std::thread> threads;
  std::vector<int> oks(opt.interpreters, 1);
  for (int i = 0; i < opt.interpreters; i++) {
    threads.emplace_back(RunInterpreter, i, std::cref(opt), ready[1],
                         release[0], &oks[i]);
  }
  // Every thread of every interpreter sits deep and blocks.
  int expected = opt.interpreters * opt.threads;
  for (int got = 0; got < expected;) {
    char buf[64];
    ssize_t n =
        read(ready[0], buf, std::min<size_t>(sizeof(buf), expected - got));
    if (n <= 0) {
      perror("read");
      return 1;
    }
    got += static_cast<int>(n);
  }

  static Dump dump;
  int text_null = open("/dev/null", O_WRONLY);
  int json_null = open("/dev/null", O_WRONLY);

  // What one dump writes (into memory files, counted once).
  int text_mem = memfd_create("bench_dump_text", 0);
  int json_mem = memfd_create("bench_dump_json", 0);
  DumpOnce(&dump, text_mem, json_mem, true);
  std::string text = ReadAll(text_mem);
  std::string json = ReadAll(json_mem);
  size_t dumped_threads = CountOccurrences(json, "\"event\":\"dump_thread\"");
  size_t dumped_frames = CountOccurrences(json, "{\"filename\":");
  size_t native_frames = CountOccurrences(json, "{\"pc\":");
  size_t truncated = CountOccurrences(text, "[truncated]") +
                     CountOccurrences(json, "[truncated]");

  // Warm-up, then the timed runs.
  DumpOnce(&dump, text_null, json_null, true);
  std::vector<double> full_ms, threads_ms;
  for (int r = 0; r < opt.repeats; r++) {
    auto t0 = std::chrono::steady_clock::now();
    DumpOnce(&dump, text_null, json_null, true);
    auto t1 = std::chrono::steady_clock::now();
    DumpOnce(&dump, text_null, json_null, false);
    auto t2 = std::chrono::steady_clock::now();
    full_ms.push_back(
        std::chrono::duration<double, std::milli>(t1 - t0).count());
    threads_ms.push_back(
        std::chrono::duration<double, std::milli>(t2 - t1).count());
  }

  printf("bench_dump: CPython %s, shim %s\n", Py_GetVersion(),
         interpsan_shim_version());
  printf(
      "  process: %d own-GIL interpreters x %d threads, ~%d Python frames each "
      "(+ main)\n",
      opt.interpreters, opt.threads, opt.depth);
  printf(
      "  one dump: %zu threads, %zu Python frames, %zu native frames; "
      "%zu bytes text, %zu bytes JSON%s\n",
      dumped_threads, dumped_frames, native_frames, text.size(), json.size(),
      truncated ? " (TRUNCATED output)" : "");
  printf(
      "  full dump (header + every thread + native stack + end), %d runs: "
      "min %.3f ms, median %.3f ms, max %.3f ms\n",
      opt.repeats, *std::min_element(full_ms.begin(), full_ms.end()),
      Median(full_ms), *std::max_element(full_ms.begin(), full_ms.end()));
  printf(
      "  Python threads only (header + threads + end), %d runs: "
      "min %.3f ms, median %.3f ms\n",
      opt.repeats, *std::min_element(threads_ms.begin(), threads_ms.end()),
      Median(threads_ms));
  double median = Median(full_ms);
  printf("  per Python frame: %.2f us (median full dump / frames)\n",
         dumped_frames ? median * 1000.0 / static_cast<double>(dumped_frames)
                       : 0.0);
  printf("  target: under 10 ms per dump: %s\n",
         median < 10.0 ? "met" : "NOT met");

  // Where the time goes: every read of CPython memory in the dump is an
  // interpsan_shim_safe_copy (process_vm_readv on the own process, plus a
  // getpid), and a frame takes several.
  {
    constexpr int kCalls = 20000;
    char src[64] = {0}, dst[64];
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; i++)
      interpsan_shim_safe_copy(dst, src, sizeof(dst));
    auto t1 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; i++) (void)getpid();
    auto t2 = std::chrono::steady_clock::now();
    double copy_us =
        std::chrono::duration<double, std::micro>(t1 - t0).count() / kCalls;
    double pid_us =
        std::chrono::duration<double, std::micro>(t2 - t1).count() / kCalls;
    printf(
        "  interpsan_shim_safe_copy: %.2f us per call (of which getpid: %.2f "
        "us); "
        "%.1f calls per Python frame would account for the dump\n",
        copy_us, pid_us,
        dumped_frames
            ? median * 1000.0 / static_cast<double>(dumped_frames) / copy_us
            : 0.0);
  }

  // Release every thread (EOF on the release pipe) and end cleanly.
  close(release[1]);
  for (std::thread& t : threads) t.join();
  PyEval_RestoreThread(main_tstate);
  Py_FinalizeEx();
  for (int ok : oks) {
    if (!ok) return 1;
  }
  return 0;
}
