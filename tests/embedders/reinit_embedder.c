// An embedding application that initialises and finalises CPython more than
// once in one process, as pybind11's embedding tests and plugin hosts do:
//
//   reinit_embedder rounds N          N x (Py_Initialize; run; Py_Finalize)
//   reinit_embedder config N          N x Py_InitializeFromConfig with a
//                                     custom PyConfig (isolated, own argv,
//                                     program name, no site), run, finalize
//   reinit_embedder subinterpreters correct|broken
//                                     round 1 as `rounds`; round 2 also runs
//                                     2 own-GIL subinterpreters on threads.
//                                     `broken`: each drops the last reference
//                                     to a list the main interpreter created
//                                     (a cross-interpreter deallocation, on
//                                     purpose); `correct`: each works on its
//                                     own objects only.
//   reinit_embedder subinterpreters-each N
//                                     N rounds, each running 2 correct own-GIL
//                                     subinterpreters beside its main one
//
// Prints "round K ok" per round and "embedder done" at the end; exits 1 on
// any CPython error.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Work that allocates in every domain and leaves objects for finalization:
// imports (the path configuration), dicts, lists, strings, a class.
static const char kWork[] =
    "import json, sys\n"
    "class Point:\n"
    "    def __init__(self, x): self.x = x\n"
    "data = {str(i): [Point(i), i * 1.5, 'v' * (i % 7)] for i in range(2000)}\n"
    "text = json.dumps({k: v[1] for k, v in data.items()})\n"
    "assert len(json.loads(text)) == 2000\n"
    "kept = sys.modules  # still referenced at finalization\n";

static int RunWork(void) {
  if (PyRun_SimpleString(kWork) != 0) {
    fprintf(stderr, "embedder: the work failed\n");
    return -1;
  }
  return 0;
}

static int FinishRound(int round) {
  if (Py_FinalizeEx() != 0) {
    fprintf(stderr, "embedder: Py_FinalizeEx failed in round %d\n", round);
    return -1;
  }
  printf("round %d ok\n", round);
  fflush(stdout);
  return 0;
}

static int PlainRound(int round) {
  Py_Initialize();
  if (RunWork() < 0) return -1;
  return FinishRound(round);
}

static int ConfigRound(int round, const char* self) {
  PyConfig config;
  PyConfig_InitIsolatedConfig(&config);
  config.site_import = 0;
  config.install_signal_handlers = 0;
  PyStatus status =
      PyConfig_SetBytesString(&config, &config.program_name, self);
  if (PyStatus_Exception(status)) goto fail;
  char round_arg[16];
  snprintf(round_arg, sizeof(round_arg), "%d", round);
  char* argv[] = {(char*)self, (char*)"--round", round_arg};
  status = PyConfig_SetBytesArgv(&config, 3, argv);
  if (PyStatus_Exception(status)) goto fail;
  status = Py_InitializeFromConfig(&config);
  if (PyStatus_Exception(status)) goto fail;
  PyConfig_Clear(&config);
  if (RunWork() < 0 ||
      PyRun_SimpleString(
          "import sys\n"
          "assert sys.argv[1:] == ['--round', sys.argv[2]], sys.argv\n"
          "assert sys.flags.isolated == 1\n") != 0) {
    return -1;
  }
  return FinishRound(round);
fail:
  PyConfig_Clear(&config);
  fprintf(stderr, "embedder: Py_InitializeFromConfig failed: %s\n",
          status.err_msg ? status.err_msg : "?");
  return -1;
}

// ---- own-GIL subinterpreters ----------------------------------------------

// The main interpreter's list that the broken subinterpreters release.
static PyObject* g_main_list[2];
static int g_broken = 0;

static void* SubinterpreterThread(void* arg) {
  long which = (long)arg;
  PyInterpreterConfig config = {
      .use_main_obmalloc = 0,
      .allow_fork = 0,
      .allow_exec = 0,
      .allow_threads = 1,
      .allow_daemon_threads = 0,
      .check_multi_interp_extensions = 1,
      .gil = PyInterpreterConfig_OWN_GIL,
  };
  PyThreadState* tstate = NULL;
  PyStatus status = Py_NewInterpreterFromConfig(&tstate, &config);
  if (PyStatus_Exception(status)) {
    fprintf(stderr, "embedder: Py_NewInterpreterFromConfig failed\n");
    return (void*)1;
  }
  long failed = RunWork() < 0;
  if (g_broken) {
    // BUG on purpose: the main interpreter's object, released here.
    Py_DECREF(g_main_list[which]);  // CROSS-INTERPRETER-DEALLOC
  }
  Py_EndInterpreter(tstate);
  return (void*)failed;
}

static int SubinterpreterRound(int round) {
  Py_Initialize();
  if (RunWork() < 0) return -1;
  for (int i = 0; i < 2; i++) {
    g_main_list[i] = Py_BuildValue("[iii]", 1, 2, 3);
    if (g_main_list[i] == NULL) return -1;
  }
  long failed = 0;
  PyThreadState* main_tstate = PyEval_SaveThread();
  pthread_t threads[2];
  for (long i = 0; i < 2; i++) {
    pthread_create(&threads[i], NULL, SubinterpreterThread, (void*)i);
  }
  for (int i = 0; i < 2; i++) {
    void* result = NULL;
    pthread_join(threads[i], &result);
    failed |= (long)result;
  }
  PyEval_RestoreThread(main_tstate);
  if (!g_broken) {
    for (int i = 0; i < 2; i++) Py_DECREF(g_main_list[i]);
  }
  if (failed) return -1;
  return FinishRound(round);
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr,
            "usage: %s rounds N | config N | subinterpreters correct|broken | "
            "subinterpreters-each N\n",
            argv[0]);
    return 2;
  }
  const char* mode = argv[1];
  if (strcmp(mode, "rounds") == 0 || strcmp(mode, "config") == 0) {
    int rounds = atoi(argv[2]);
    for (int round = 1; round <= rounds; round++) {
      int rc = strcmp(mode, "rounds") == 0 ? PlainRound(round)
                                           : ConfigRound(round, argv[0]);
      if (rc < 0) return 1;
    }
  } else if (strcmp(mode, "subinterpreters-each") == 0) {
    int rounds = atoi(argv[2]);
    for (int round = 1; round <= rounds; round++) {
      if (SubinterpreterRound(round) < 0) return 1;
    }
  } else if (strcmp(mode, "subinterpreters") == 0) {
    g_broken = strcmp(argv[2], "broken") == 0;
    if (PlainRound(1) < 0 || SubinterpreterRound(2) < 0) return 1;
  } else {
    fprintf(stderr, "%s: unknown mode %s\n", argv[0], mode);
    return 2;
  }
  printf("embedder done\n");
  return 0;
}
