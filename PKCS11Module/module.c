/* cpsd's drop-in PKCS#11 module (libcps3_pkcs11_lux.so): Cryptolib CPS's C interface in front of p11-kit's
 * RPC client, which carries every call to cpsd. This file holds the library state and the calls whose
 * argument checks differ from p11-kit's client; forward.c holds the plain forwarders. Why a shim rather
 * than a client of our own: README.md next to this file. */
#include "module.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static void *client_handle;
static CK_FUNCTION_LIST_PTR client;

/* Where Debian, Fedora and others install p11-kit's client module; CPSD_P11_KIT_CLIENT overrides. */
static const char *const client_paths[] = {
    "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so",
    "/usr/lib/aarch64-linux-gnu/pkcs11/p11-kit-client.so",
    "/usr/lib64/pkcs11/p11-kit-client.so",
    "/usr/lib/pkcs11/p11-kit-client.so",
};

CK_FUNCTION_LIST_PTR cps_client(void) {
    pthread_mutex_lock(&state_lock);
    CK_FUNCTION_LIST_PTR current = client;
    pthread_mutex_unlock(&state_lock);
    return current;
}

/* dlopen with RTLD_DEEPBIND: the client resolves its own C_* symbols, never ours. */
static CK_FUNCTION_LIST_PTR load_client(void) {
    const char *override = getenv("CPSD_P11_KIT_CLIENT");
    void *handle = NULL;
    if (override != NULL && override[0] != '\0') {
        handle = dlopen(override, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    } else {
        for (size_t i = 0; handle == NULL && i < sizeof client_paths / sizeof client_paths[0]; i++)
            handle = dlopen(client_paths[i], RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    }
    if (handle == NULL) return NULL;
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(handle, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR list = NULL;
    if (get == NULL || get(&list) != CKR_OK || list == NULL) {
        dlclose(handle);
        return NULL;
    }
    client_handle = handle;
    return list;
}

/* PKCS#11 2.20 §11.4 as Cryptolib applies it (cryptolib-pkcs11.md §2): NULL is fine; pReserved must be NULL;
 * the four mutex callbacks come all or none. Whatever the caller asked, the client is initialised with OS
 * locking, which it requires (it answers CKR_CANT_LOCK to flags 0 without callbacks, where Cryptolib says
 * CKR_OK). */
static CK_RV check_init_args(CK_VOID_PTR args) {
    if (args == NULL) return CKR_OK;
    CK_C_INITIALIZE_ARGS_PTR init = args;
    if (init->pReserved != NULL) return CKR_ARGUMENTS_BAD;
    int callbacks = (init->CreateMutex != NULL) + (init->DestroyMutex != NULL) + (init->LockMutex != NULL)
        + (init->UnlockMutex != NULL);
    if (callbacks != 0 && callbacks != 4) return CKR_ARGUMENTS_BAD;
    return CKR_OK;
}

CK_RV C_Initialize(CK_VOID_PTR args) {
    CK_RV rv = check_init_args(args);
    if (rv != CKR_OK) return rv;
    pthread_mutex_lock(&state_lock);
    if (client != NULL) {
        pthread_mutex_unlock(&state_lock);
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    CK_FUNCTION_LIST_PTR list = load_client();
    if (list == NULL) {
        pthread_mutex_unlock(&state_lock);
        return CKR_GENERAL_ERROR;
    }
    CK_C_INITIALIZE_ARGS os_locking = {.flags = CKF_OS_LOCKING_OK};
    rv = list->C_Initialize(&os_locking);
    if (rv == CKR_OK) {
        client = list;
    } else {
        dlclose(client_handle);
        client_handle = NULL;
    }
    pthread_mutex_unlock(&state_lock);
    return rv;
}

CK_RV C_Finalize(CK_VOID_PTR reserved) {
    if (reserved != NULL) return CKR_ARGUMENTS_BAD;
    pthread_mutex_lock(&state_lock);
    if (client == NULL) {
        pthread_mutex_unlock(&state_lock);
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    CK_RV rv = client->C_Finalize(NULL);
    client = NULL;
    /* The client module stays loaded: a thread still returning from a call into it must not find it unmapped. */
    pthread_mutex_unlock(&state_lock);
    return rv;
}

/* Our own identity, not the vendor's: software that checks it learns it talks to cpsd. */
CK_RV C_GetInfo(CK_INFO_PTR info) {
    if (cps_client() == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (info == NULL) return CKR_ARGUMENTS_BAD;
    memset(info, ' ', sizeof *info);
    info->cryptokiVersion = (CK_VERSION){2, 20};
    memcpy(info->manufacturerID, "cpsd", 4);
    info->flags = 0;
    memcpy(info->libraryDescription, "cpsd PKCS#11 (Cryptolib CPS API)", 32);
    info->libraryVersion = (CK_VERSION){1, 0};
    return CKR_OK;
}

CK_RV C_GetSlotList(CK_BBOOL token_present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (count == NULL) return CKR_ARGUMENTS_BAD;
    return f->C_GetSlotList(token_present, list, count);
}

CK_RV C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (info == NULL) return CKR_ARGUMENTS_BAD;
    return f->C_GetSlotInfo(slot, info);
}

CK_RV C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (info == NULL) return CKR_ARGUMENTS_BAD;
    return f->C_GetTokenInfo(slot, info);
}

/* Cryptolib deliberately refuses the blocking form (so that Firefox polls): cryptolib-pkcs11.md §8.5. */
CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (reserved != NULL || slot == NULL) return CKR_ARGUMENTS_BAD;
    if ((flags & CKF_DONT_BLOCK) == 0) return CKR_FUNCTION_NOT_SUPPORTED;
    return f->C_WaitForSlotEvent(flags, slot, reserved);
}

/* The client's list, plus the hashed PSS mechanisms the client drops (pss.c). */
CK_RV C_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (count == NULL) return CKR_ARGUMENTS_BAD;
    CK_MECHANISM_TYPE found[64];
    CK_ULONG found_count = 64;
    CK_RV rv = f->C_GetMechanismList(slot, found, &found_count);
    return cps_pss_mechanisms(list, count, list ? *count : 0, rv, found, found_count);
}

CK_RV C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info) {
    CK_FUNCTION_LIST_PTR f = cps_client();
    if (f == NULL) return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (info == NULL) return CKR_ARGUMENTS_BAD;
    if (type != CKM_SHA1_RSA_PKCS_PSS && type != CKM_SHA256_RSA_PKCS_PSS) return f->C_GetMechanismInfo(slot, type, info);
    CK_RV rv = f->C_GetMechanismInfo(slot, CKM_RSA_PKCS_PSS, info);
    /* The hashing forms: sign and verify, and no CKF_HW (the host hashes first), as Cryptolib lists them. */
    if (rv == CKR_OK) info->flags &= CKF_SIGN | CKF_VERIFY;
    return rv;
}
