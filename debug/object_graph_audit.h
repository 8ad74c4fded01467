// object_graph_audit.h: the checks that look at what an interpreter can
// reach rather than at what it does.
//
// At a checkpoint (the end of the program, after each test, or on demand
// through interpsan.audit()) the calling interpreter's object graph is
// walked: every GC-tracked object's references (tp_traverse, so module
// state is included through m_traverse) must be immortal or its own.
// Then the writable static memory of every extension module the
// interpreter imported is scanned for pointers to objects that another
// interpreter owns: the `static PyObject *cache` bug, named by variable
// (the supervisor maps the offset to a symbol with nm). Static (non-heap)
// types of extensions used by more than one interpreter are reported once
// each.
//
// Must run in the audited interpreter's thread with its GIL held.
#ifndef INTERPSAN_DEBUG_OBJECT_GRAPH_AUDIT_H_
#define INTERPSAN_DEBUG_OBJECT_GRAPH_AUDIT_H_

typedef struct _object PyObject;

namespace interpsan {

// Returns the number of findings reported (or -1 with a Python error set).
int AuditCurrentInterpreter(const char* checkpoint);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_OBJECT_GRAPH_AUDIT_H_
