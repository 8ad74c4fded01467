// sanctioned_sharing.h: objects that CPython itself shares between
// interpreters on purpose, recognised by the mechanism that shares them.
//
// Not a suppression list: each mechanism is identified from CPython's own
// records and the object's shape, per CPython version, and everything that
// does not match exactly is still reported. The mechanisms (README,
// "Sharing CPython sanctions"):
//
//   kArgClinicKeywordTuple (3.13 only): the keyword-name tuple of an
//     Argument Clinic parser (`static _PyArg_Parser _parser`). 3.13's
//     getargs.c `_parser_init` creates it in the main interpreter and every
//     interpreter only reads it; the main interpreter releases it at
//     finalization (_PyArg_Fini). On 3.12 the same tuple belongs to whichever
//     interpreter parsed first and dangles once that one ends: reported.
//
// Thread safety: thread-safe; call with the current interpreter's GIL held
// (it reads the candidate object's fields). Not async-signal-safe.
// Allocates nothing and never calls into Python.
#ifndef INTERPSAN_DEBUG_SANCTIONED_SHARING_H_
#define INTERPSAN_DEBUG_SANCTIONED_SHARING_H_

#include "runtime/owner_record.h"

typedef struct _object PyObject;

namespace interpsan {

enum class SanctionedMechanism {
  kNone = 0,
  kArgClinicKeywordTuple,
};

// Why the static word at `word` may hold `value`, an object owned by
// interpreter slot `owner` and seen from another interpreter, or kNone if it
// may not (report it).
SanctionedMechanism SanctionedStaticReference(const void* word, PyObject* value,
                                              OwnerSlot owner);

// A short name of the mechanism ("argument-clinic-keyword-tuple").
const char* SanctionedMechanismName(SanctionedMechanism mechanism);

}  // namespace interpsan

#endif  // INTERPSAN_DEBUG_SANCTIONED_SHARING_H_
