/* CKM_SHA1_RSA_PKCS_PSS and CKM_SHA256_RSA_PKCS_PSS through p11-kit's client, which drops them (Debian 12's
 * p11-kit 0.24.1 carries only the raw CKM_RSA_PKCS_PSS: p11-kit-rpc.md). Cryptolib offers them on CPS4 (ANS rows
 * 1302-1311), so the module hashes the message here and has cpsd sign or verify the digest with
 * CKM_RSA_PKCS_PSS and the same parameters, the same signature byte for byte (the card builds EMSA-PSS from the
 * digest either way). The list and the infos show the two mechanisms wherever cpsd offers the raw one. */
#include "module.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

/* A session's hashed-PSS operation, one for signing and one for verifying at most. */
struct pss_operation {
    CK_SESSION_HANDLE session;
    int verifying;
    EVP_MD_CTX *digest;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pss_operation table[64];

static const EVP_MD *hash_of(CK_MECHANISM_TYPE type) {
    if (type == CKM_SHA1_RSA_PKCS_PSS) return EVP_sha1();
    if (type == CKM_SHA256_RSA_PKCS_PSS) return EVP_sha256();
    return NULL;
}

/* The slot for (session, verifying), creating it when `create`. Called with table_lock held. */
static struct pss_operation *slot_of(CK_SESSION_HANDLE session, int verifying, int create) {
    struct pss_operation *free_slot = NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].digest != NULL && table[i].session == session && table[i].verifying == verifying) return &table[i];
        if (table[i].digest == NULL && free_slot == NULL) free_slot = &table[i];
    }
    if (!create || free_slot == NULL) return NULL;
    free_slot->session = session;
    free_slot->verifying = verifying;
    return free_slot;
}

static void end_operation(CK_SESSION_HANDLE session, int verifying) {
    pthread_mutex_lock(&table_lock);
    struct pss_operation *operation = slot_of(session, verifying, 0);
    if (operation != NULL) {
        EVP_MD_CTX_free(operation->digest);
        operation->digest = NULL;
    }
    pthread_mutex_unlock(&table_lock);
}

/* Starts a hashed-PSS operation: cpsd gets CKM_RSA_PKCS_PSS with the caller's parameters. */
CK_RV cps_pss_init(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key, int verifying,
                   CK_RV (*forward)(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE)) {
    const EVP_MD *md = hash_of(mechanism->mechanism);
    CK_MECHANISM raw = {CKM_RSA_PKCS_PSS, mechanism->pParameter, mechanism->ulParameterLen};
    CK_RV rv = forward(session, &raw, key);
    if (rv != CKR_OK) return rv;
    pthread_mutex_lock(&table_lock);
    struct pss_operation *operation = slot_of(session, verifying, 1);
    if (operation != NULL && operation->digest == NULL) operation->digest = EVP_MD_CTX_new();
    if (operation == NULL || operation->digest == NULL || EVP_DigestInit_ex(operation->digest, md, NULL) != 1) {
        pthread_mutex_unlock(&table_lock);
        return CKR_HOST_MEMORY;
    }
    pthread_mutex_unlock(&table_lock);
    return CKR_OK;
}

int cps_pss_active(CK_SESSION_HANDLE session, int verifying) {
    pthread_mutex_lock(&table_lock);
    int active = slot_of(session, verifying, 0) != NULL;
    pthread_mutex_unlock(&table_lock);
    return active;
}

CK_RV cps_pss_update(CK_SESSION_HANDLE session, int verifying, CK_BYTE_PTR part, CK_ULONG length) {
    pthread_mutex_lock(&table_lock);
    struct pss_operation *operation = slot_of(session, verifying, 0);
    int ok = operation != NULL && EVP_DigestUpdate(operation->digest, part, length) == 1;
    pthread_mutex_unlock(&table_lock);
    return ok ? CKR_OK : CKR_OPERATION_NOT_INITIALIZED;
}

/* The digest of what was fed so far plus `data` (NULL for none), leaving the running digest untouched so that
 * a length query or a too-small buffer can be answered and the call repeated. */
CK_RV cps_pss_digest(CK_SESSION_HANDLE session, int verifying, CK_BYTE_PTR data, CK_ULONG length,
                     CK_BYTE digest[EVP_MAX_MD_SIZE], CK_ULONG *digest_length) {
    pthread_mutex_lock(&table_lock);
    struct pss_operation *operation = slot_of(session, verifying, 0);
    EVP_MD_CTX *copy = operation ? EVP_MD_CTX_new() : NULL;
    unsigned int size = 0;
    int ok = copy != NULL && EVP_MD_CTX_copy_ex(copy, operation->digest) == 1
        && (data == NULL || EVP_DigestUpdate(copy, data, length) == 1) && EVP_DigestFinal_ex(copy, digest, &size) == 1;
    EVP_MD_CTX_free(copy);
    pthread_mutex_unlock(&table_lock);
    *digest_length = size;
    return ok ? CKR_OK : CKR_OPERATION_NOT_INITIALIZED;
}

/* After cpsd answered the digest: the operation ends unless that was a length query or a too-small buffer. */
void cps_pss_finish(CK_SESSION_HANDLE session, int verifying, CK_RV rv, int length_query) {
    if (length_query || rv == CKR_BUFFER_TOO_SMALL) return;
    end_operation(session, verifying);
}

/* The hashed PSS mechanisms, added after CKM_RSA_PKCS_PSS when cpsd offers it and the client dropped them. */
CK_RV cps_pss_mechanisms(CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count, CK_ULONG listed, CK_RV rv,
                         const CK_MECHANISM_TYPE *found, CK_ULONG found_count) {
    int has_raw = 0, has_hashed = 0;
    for (CK_ULONG i = 0; i < found_count; i++) {
        has_raw |= found[i] == CKM_RSA_PKCS_PSS;
        has_hashed |= found[i] == CKM_SHA1_RSA_PKCS_PSS || found[i] == CKM_SHA256_RSA_PKCS_PSS;
    }
    CK_ULONG total = found_count + (has_raw && !has_hashed ? 2 : 0);
    if (rv != CKR_OK) return rv;
    if (list == NULL) {
        *count = total;
        return CKR_OK;
    }
    if (listed < total) {
        *count = total;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(list, found, found_count * sizeof *found);
    if (total > found_count) {
        list[found_count] = CKM_SHA1_RSA_PKCS_PSS;
        list[found_count + 1] = CKM_SHA256_RSA_PKCS_PSS;
    }
    *count = total;
    return CKR_OK;
}
