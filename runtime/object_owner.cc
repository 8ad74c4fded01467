#include "runtime/object_owner.h"

#include <Python.h>

#include "runtime/arena_map.h"
#include "runtime/python_shim.h"
#include "runtime/static_memory_map.h"

namespace interpsan {

bool IsImmortal(PyObject* op) { return _Py_IsImmortal(op); }

void MakeImmortal(PyObject* op) { op->ob_refcnt = _Py_IMMORTAL_REFCNT; }

OwnerSlot OwnerOfBlock(const void* block) {
  OwnerSlot owner = ArenaMap::Lookup(block);
  if (owner != kNoOwner) return owner;
  if (StaticMemoryMap::Contains(block)) return kNoOwner;
  const BlockHeader* header = BlockHeader::FromUser(block);
  if (header->magic != kLiveMagic) return kNoOwner;
  return static_cast<OwnerSlot>(header->owner);
}

OwnerSlot OwnerOfObject(PyObject* op) {
  // Immortal objects may sit in some interpreter's arena (3.12 interns
  // strings there) and are still everyone's.
  if (_Py_IsImmortal(op)) return kNoOwner;
  // Small objects: the arena answers, whatever the pre-header size.
  OwnerSlot owner = ArenaMap::Lookup(op);
  if (__builtin_expect(owner != kNoOwner, 1)) return owner;
  if (StaticMemoryMap::Contains(op)) return kNoOwner;
  const char* block =
      reinterpret_cast<const char*>(op) - interpsan_shim_preheader_size(op);
  const BlockHeader* header = BlockHeader::FromUser(block);
  if (header->magic != kLiveMagic || header->block_domain() != Domain::kObj) {
    return kNoOwner;
  }
  return static_cast<OwnerSlot>(header->owner);
}

}  // namespace interpsan
