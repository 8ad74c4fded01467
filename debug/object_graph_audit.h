// object_graph_audit.h: the checks that look at what an interpreter can
// reach rather than at what it does.
//
// A full audit (the end of the program, interpsan.audit(), and after each
// test with --audit=each-test) walks the calling interpreter's object
// graph: every GC-tracked object's references (tp_traverse, so module state
// is included through m_traverse) must be immortal or its own. Then the
// writable static memory of every extension module the interpreter
// imported is scanned for pointers to objects that another interpreter
// owns: the `static PyObject *cache` bug, named by variable (the supervisor
// maps the offset to a symbol with nm). Static (non-heap) types of
// extensions used by more than one interpreter are reported once each.
//
// The audit after each test (--audit=changed, the default) costs what
// changed, not the whole heap:
//   - objects: only the young GC generations: generation 0 past a marker
//     object made at the end of the last audit (what was tracked since),
//     and generation 1 only when a collection has run since the last
//     audit (otherwise it holds nothing new);
//   - static memory: only the 8-byte words whose value changed since this
//     interpreter's last audit (each interpreter keeps a copy of every
//     imported extension's writable segments; they are small), plus all of
//     an extension's words when the interpreter imports it.
// What a per-test full walk (--audit=each-test) sees and this does not: a
// foreign reference stored during a test into an old object (generation
// 2), or held by a new object that a collection of generation 1 or 2
// (gc.collect()) promoted to generation 2 during the test, when it is gone
// again before the program ends; anything still there at the end is found
// by the final full walk.
//
// Findings are de-duplicated across audits by (kind, interpreter, holder,
// object): a static that holds a foreign object is one finding however
// many tests end while it does, and a finding's count is the number of
// distinct (holder, object) pairs seen (within one walk, pairs with the same
// holder and object types are collapsed into the first).
//
// Must run in the audited interpreter's thread with its GIL held. The
// shared bookkeeping is behind small mutexes taken per interpreter or per
// finding, never per object.
#ifndef INTERPSAN_DEBUG_OBJECT_GRAPH_AUDIT_H_
#define INTERPSAN_DEBUG_OBJECT_GRAPH_AUDIT_H_

#include <string>

typedef struct _object PyObject;

namespace interpsan {

// What the audit after each test does (--audit, `audit=` of
// INTERPSAN_OPTIONS, tools/runner/options.h).
enum class AuditMode {
  kChanged,   // "changed" (default): young objects and changed statics
  kEachTest,  // "each-test": a full walk after every test
  kEnd,       // "end": nothing after tests; the end of the program only
};

// Sets the mode from its word (options.cc has validated it; anything else
// is "changed"). Call before the interpreters start.
void SetAuditMode(const std::string& word);
AuditMode CurrentAuditMode();

// A full audit. Returns the number of findings reported (or -1 with a
// Python error set).
int AuditCurrentInterpreter(const char* checkpoint);

// The audit at the end of a test, as the mode says. Same return.
int AuditAfterTest(const char* checkpoint);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_OBJECT_GRAPH_AUDIT_H_
