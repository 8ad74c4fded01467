// object_owner.h: "which interpreter owns this object?"
//
// Answered from facts, in order of cost:
//   1. immortal objects (PEP 683) belong to everyone: kNoOwner;
//   2. a pymalloc arena names its interpreter (one table load);
//   3. writable static memory of libpython or a .so holds static objects,
//      which no interpreter owns: kNoOwner;
//   4. otherwise the object sits in a header block (obj domain, > 512
//      bytes) whose owner record says who allocated it.
// Anything else (an object from a foreign allocator) is kNoOwner: interpsan
// does not guess.
//
// Thread safety: lock-free; safe from any thread that keeps `op` alive.
#ifndef INTERPSAN_RUNTIME_OBJECT_OWNER_H_
#define INTERPSAN_RUNTIME_OBJECT_OWNER_H_

#include "runtime/owner_record.h"

typedef struct _object PyObject;

namespace interpsan {

// True for objects that are legitimately shared by every interpreter.
bool IsImmortal(PyObject* op);

// Makes `op` immortal, so that a deallocation interpsan refused is never
// attempted again.
void MakeImmortal(PyObject* op);

OwnerSlot OwnerOfObject(PyObject* op);

// The owner of a heap block by its user pointer (arena or header), or
// kNoOwner.
OwnerSlot OwnerOfBlock(const void* block);

}  // namespace interpsan

#endif  // INTERPSAN_RUNTIME_OBJECT_OWNER_H_
