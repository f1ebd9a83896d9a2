// What Swift cannot import from pcsc-lite's headers: the protocol control blocks are
// addresses of globals behind macros, SCARD_AUTOALLOCATE is a cast, SCARD_CTL_CODE a macro.
#ifndef CPCSCLITE_SHIM_H
#define CPCSCLITE_SHIM_H
#include <winscard.h>
#include <wintypes.h>
#include <pcsclite.h>
#include <reader.h>

static inline const SCARD_IO_REQUEST *cpcsc_pci_t0(void) { return SCARD_PCI_T0; }
static inline const SCARD_IO_REQUEST *cpcsc_pci_t1(void) { return SCARD_PCI_T1; }
static inline const SCARD_IO_REQUEST *cpcsc_pci_raw(void) { return SCARD_PCI_RAW; }
static inline DWORD cpcsc_ctl_code(DWORD code) { return SCARD_CTL_CODE(code); }
#endif
