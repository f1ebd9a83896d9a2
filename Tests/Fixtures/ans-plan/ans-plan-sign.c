/* ANS plan section 600 (signature), in the plan's order; see ans-plan.c. */
#include "ans-plan.h"

#include <string.h>

/* The SHA-256 DigestInfo prefix (PKCS#1 v2.2 §9.2) and a digest; the signature key signs either. */
static const CK_BYTE sha256_prefix[] = {0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                         0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};

/* Rows 636-644: CKM_RSA_PKCS on the signature key over a SHA-1 digest, a SHA-256 digest, a full DigestInfo. */
static void digest_signatures(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key) {
    CK_MECHANISM rsa = {CKM_RSA_PKCS, NULL, 0};
    CK_BYTE input[51], signature[256];
    memset(input, 0x5A, sizeof input);
    memcpy(input, sha256_prefix, sizeof sha256_prefix);
    const CK_ULONG lengths[3] = {20, 32, sizeof input};
    for (int i = 0; i < 3; i++) {
        const CK_BYTE *data = i == 2 ? input : input + sizeof sha256_prefix;
        CK_ULONG length = 0;
        row(636 + 3 * i, p->C_SignInit(session, &rsa, key));
        row(637 + 3 * i, p->C_Sign(session, (CK_BYTE_PTR)data, lengths[i], NULL, &length));
        length = sizeof signature;
        row(638 + 3 * i, p->C_Sign(session, (CK_BYTE_PTR)data, lengths[i], signature, &length));
    }
}

/* Rows 622-635: multi-part signing with CKM_SHA256_RSA_PKCS on the signature key. */
static void multi_part(CK_SESSION_HANDLE session, CK_SESSION_HANDLE idle, CK_OBJECT_HANDLE key) {
    CK_MECHANISM sha256 = {CKM_SHA256_RSA_PKCS, NULL, 0};
    CK_BYTE part[100], signature[256];
    memset(part, 0x42, sizeof part);
    row(622, p->C_SignUpdate(idle, part, sizeof part));
    row(623, p->C_SignUpdate(session + 1000, part, sizeof part));
    row(624, p->C_SignInit(session, &sha256, key));
    row(625, p->C_SignUpdate(session, NULL, sizeof part));
    row(626, p->C_SignUpdate(session, part, sizeof part));
    row(627, p->C_SignUpdate(session, part, sizeof part));
    CK_ULONG length = sizeof signature;
    row(628, p->C_SignFinal(idle, signature, &length));
    p->C_SignFinal(session, signature, &length);
    row(629, p->C_SignInit(session, &sha256, key));
    row(630, p->C_SignFinal(session + 1000, signature, &length));
    row(631, p->C_SignFinal(session, signature, NULL));
    row(632, p->C_SignUpdate(session, part, sizeof part));
    CK_ULONG tiny = 1;
    row(633, p->C_SignFinal(session, signature, &tiny));
    length = 0;
    row(634, p->C_SignFinal(session, NULL, &length));
    length = sizeof signature;
    row(635, p->C_SignFinal(session, signature, &length));
}

void signature(void) {
    CK_MECHANISM rsa = {CKM_RSA_PKCS, NULL, 0}, bad = {0x80001234UL, NULL, 0};
    CK_BYTE data[51], signature_bytes[256];
    memset(data, 0x5A, sizeof data);
    memcpy(data, sha256_prefix, sizeof sha256_prefix);
    CK_ULONG length = sizeof signature_bytes;
    row(600, p->C_SignInit(1, &rsa, 1));
    row(601, p->C_Sign(1, data, sizeof data, signature_bytes, &length));
    row(602, p->C_SignUpdate(1, data, sizeof data));
    row(603, p->C_SignFinal(1, signature_bytes, &length));
    CK_SESSION_HANDLE session, idle;
    if (open_session(&session) != CKR_OK) return;
    p->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &idle);
    row(604, p->C_SignInit(session + 1000, &rsa, 1));
    row(605, p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    CK_OBJECT_HANDLE auth = find_object(session, CKO_PRIVATE_KEY, "CPS_PRIV_AUT");
    CK_OBJECT_HANDLE sig = find_object(session, CKO_PRIVATE_KEY, "CPS_PRIV_SIG");
    /* A key that cannot sign: the first public key. */
    CK_OBJECT_CLASS public_class = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE public_template = {CKA_CLASS, &public_class, sizeof public_class};
    CK_OBJECT_HANDLE public_key = CK_INVALID_HANDLE;
    CK_ULONG found = 0;
    if (p->C_FindObjectsInit(session, &public_template, 1) == CKR_OK) p->C_FindObjects(session, &public_key, 1, &found);
    p->C_FindObjectsFinal(session);
    row(606, p->C_SignInit(session, &rsa, 0xDEAD));
    row(607, p->C_SignInit(session, &bad, auth));
    row(608, p->C_SignInit(session, &rsa, public_key));
    p->C_Logout(session);
    row(609, p->C_SignInit(session, &rsa, auth));
    p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
    row(610, p->C_Sign(session, data, sizeof data, signature_bytes, &length));
    row(611, p->C_Sign(session + 1000, data, sizeof data, signature_bytes, &length));
    row(612, p->C_SignInit(session, &rsa, auth));
    row(613, p->C_Sign(session, data, sizeof data, signature_bytes, NULL));
    length = 0;
    row(615, p->C_Sign(session, data, sizeof data, NULL, &length));
    CK_ULONG tiny = 1;
    row(616, p->C_Sign(session, data, sizeof data, signature_bytes, &tiny));
    length = sizeof signature_bytes;
    row(617, p->C_Sign(session, NULL, sizeof data, signature_bytes, &length));
    CK_BYTE too_long[300];
    memset(too_long, 1, sizeof too_long);
    row(618, p->C_Sign(session, too_long, sizeof too_long, signature_bytes, &length));
    row(619, p->C_SignInit(session, &rsa, auth));
    length = 0;
    row(620, p->C_Sign(session, data, sizeof data, NULL, &length));
    length = sizeof signature_bytes;
    row(621, p->C_Sign(session, data, sizeof data, signature_bytes, &length));
    multi_part(session, idle, sig);
    digest_signatures(session, sig);
    close_library();
}
