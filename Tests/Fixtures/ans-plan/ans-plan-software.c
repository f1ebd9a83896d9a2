/* ANS plan sections 400 (encryption), 700 (verification) and 800 (digest): what Cryptolib does in software
 * with the public keys; see ans-plan.c. */
#include "ans-plan.h"

#include <stdio.h>
#include <string.h>

/* The public key of the certificate called `certificate`: Cryptolib labels it "Cle publique - <label>", the
 * terminating NUL counted in the label's length (cryptolib-pkcs11.md §5.2), so a search must include it. */
static CK_OBJECT_HANDLE public_key(CK_SESSION_HANDLE session, const char *certificate) {
    char label[96];
    int length = snprintf(label, sizeof label, "Cle publique - %s", certificate);
    CK_OBJECT_CLASS class = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE template[2] = {{CKA_CLASS, &class, sizeof class}, {CKA_LABEL, label, (CK_ULONG)length + 1}};
    CK_OBJECT_HANDLE found = CK_INVALID_HANDLE;
    CK_ULONG count = 0;
    if (p->C_FindObjectsInit(session, template, 2) == CKR_OK) p->C_FindObjects(session, &found, 1, &count);
    p->C_FindObjectsFinal(session);
    return count == 1 ? found : CK_INVALID_HANDLE;
}

void encryption(void) {
    CK_SESSION_HANDLE session;
    if (open_session(&session) != CKR_OK) return;
    CK_MECHANISM rsa = {CKM_RSA_PKCS, NULL, 0}, bad = {0x80001234UL, NULL, 0};
    CK_OBJECT_HANDLE key = public_key(session, "Certificat d'Authentification CPS");
    p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
    CK_OBJECT_HANDLE private_key = find_object(session, CKO_PRIVATE_KEY, "CPS_PRIV_AUT");
    CK_BYTE message[] = "cle de session", out[256];
    CK_ULONG length = sizeof out;
    row(401, p->C_EncryptInit(session + 1000, &rsa, key));
    row(402, p->C_EncryptInit(session, &rsa, 0xDEAD));
    row(403, p->C_EncryptInit(session, &bad, key));
    row(404, p->C_EncryptInit(session, &rsa, private_key));
    row(405, p->C_Encrypt(session, message, sizeof message - 1, out, &length));
    row(406, p->C_EncryptInit(session, &rsa, key));
    row(407, p->C_Encrypt(session, message, sizeof message - 1, out, NULL));
    CK_ULONG tiny = 1;
    row(408, p->C_Encrypt(session, message, sizeof message - 1, out, &tiny));
    length = sizeof out;
    row(409, p->C_Encrypt(session, message, sizeof message - 1, out, &length));
    close_library();
}

/* Rows 800-819: SHA-1 and SHA-256 in software, single and multi-part, length queries, short buffers. */
void digest(void) {
    CK_MECHANISM sha1 = {CKM_SHA_1, NULL, 0}, sha256 = {CKM_SHA256, NULL, 0};
    CK_BYTE data[100], out[64];
    memset(data, 0x33, sizeof data);
    CK_ULONG length = sizeof out;
    row(800, p->C_DigestInit(1, &sha1));
    row(801, p->C_Digest(1, data, sizeof data, out, &length));
    CK_SESSION_HANDLE session;
    if (open_session(&session) != CKR_OK) return;
    row(802, p->C_DigestInit(session + 1000, &sha1));
    row(803, p->C_DigestInit(session, &sha1));
    length = 0;
    row(804, p->C_Digest(session, data, sizeof data, NULL, &length));
    length = sizeof out;
    row(805, p->C_Digest(session, data, sizeof data, out, &length));
    row(806, p->C_DigestInit(session, &sha256));
    row(807, p->C_DigestUpdate(session, data, sizeof data));
    length = 0;
    row(808, p->C_DigestFinal(session, NULL, &length));
    length = sizeof out;
    row(809, p->C_DigestFinal(session, out, &length));
    /* Cryptolib's non-standard use kept for compatibility (#1466): a length query with C_Digest, then the
     * value from C_DigestFinal. */
    row(810, p->C_DigestInit(session, &sha256));
    length = 0;
    row(811, p->C_Digest(session, data, sizeof data, NULL, &length));
    length = sizeof out;
    row(812, p->C_DigestFinal(session, out, &length));
    row(813, p->C_DigestInit(session, &sha256));
    row(814, p->C_DigestUpdate(session, data, sizeof data));
    length = sizeof out;
    row(815, p->C_DigestFinal(session, out, &length));
    row(816, p->C_DigestInit(session, &sha256));
    length = sizeof out;
    row(817, p->C_Digest(session, data, sizeof data, out, &length));
    row(818, p->C_DigestInit(session, &sha256));
    CK_ULONG tiny = 4;
    row(819, p->C_Digest(session, data, sizeof data, out, &tiny));
    close_library();
}

/* Signs `data` with the signature key (logged in) so that section 700 has real signatures to verify. */
static CK_ULONG sign_with(CK_SESSION_HANDLE session, CK_MECHANISM_TYPE type, CK_BYTE_PTR data, CK_ULONG length,
                          CK_BYTE_PTR signature) {
    CK_MECHANISM mechanism = {type, NULL, 0};
    CK_ULONG signature_length = 256;
    CK_OBJECT_HANDLE key = find_object(session, CKO_PRIVATE_KEY, "CPS_PRIV_SIG");
    if (p->C_SignInit(session, &mechanism, key) != CKR_OK) return 0;
    if (p->C_Sign(session, data, length, signature, &signature_length) != CKR_OK) return 0;
    return signature_length;
}

/* Rows 718-733: multi-part verification with CKM_SHA256_RSA_PKCS. */
static void verify_parts(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key, CK_BYTE_PTR part, CK_ULONG part_length,
                         CK_BYTE_PTR signature, CK_ULONG signature_length) {
    CK_MECHANISM sha256 = {CKM_SHA256_RSA_PKCS, NULL, 0};
    row(718, p->C_VerifyUpdate(session, part, part_length));
    row(719, p->C_VerifyUpdate(session + 1000, part, part_length));
    row(720, p->C_VerifyInit(session, &sha256, key));
    row(721, p->C_VerifyUpdate(session, NULL, part_length));
    row(722, p->C_VerifyUpdate(session, part, part_length));
    row(723, p->C_VerifyUpdate(session, part, part_length));
    p->C_VerifyFinal(session, signature, signature_length);
    row(724, p->C_VerifyFinal(session, signature, signature_length));
    row(725, p->C_VerifyFinal(session + 1000, signature, signature_length));
    row(726, p->C_VerifyInit(session, &sha256, key));
    row(727, p->C_VerifyFinal(session, NULL, signature_length));
    row(728, p->C_VerifyUpdate(session, part, part_length));
    row(729, p->C_VerifyFinal(session, signature, signature_length - 1));
    row(730, p->C_VerifyFinal(session, signature, signature_length));
    row(731, p->C_VerifyInit(session, &sha256, key));
    row(732, p->C_VerifyUpdate(session, part, part_length));
    p->C_VerifyUpdate(session, part, part_length);
    row(733, p->C_VerifyFinal(session, signature, signature_length));
}

void verification(void) {
    CK_MECHANISM rsa = {CKM_RSA_PKCS, NULL, 0}, bad = {0x80001234UL, NULL, 0};
    CK_BYTE digest_info[51], signature[256], parts_signature[256], part[100];
    memset(digest_info, 0x5A, sizeof digest_info);
    static const CK_BYTE prefix[] = {0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                     0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    memcpy(digest_info, prefix, sizeof prefix);
    memset(part, 0x42, sizeof part);
    row(700, p->C_VerifyInit(1, &rsa, 1));
    row(701, p->C_Verify(1, digest_info, sizeof digest_info, signature, 256));
    row(702, p->C_VerifyUpdate(1, part, sizeof part));
    row(703, p->C_VerifyFinal(1, signature, 256));
    CK_SESSION_HANDLE session;
    if (open_session(&session) != CKR_OK) return;
    p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
    CK_ULONG length = sign_with(session, CKM_RSA_PKCS, digest_info, sizeof digest_info, signature);
    CK_BYTE twice[200];
    memcpy(twice, part, sizeof part);
    memcpy(twice + sizeof part, part, sizeof part);
    CK_ULONG parts_length = sign_with(session, CKM_SHA256_RSA_PKCS, twice, sizeof twice, parts_signature);
    CK_OBJECT_HANDLE key = public_key(session, "Certificat de Signature CPS");
    row(704, p->C_VerifyInit(session + 1000, &rsa, key));
    row(705, p->C_VerifyInit(session, &rsa, 0xDEAD));
    row(706, p->C_VerifyInit(session, &bad, key));
    row(707, p->C_VerifyInit(session, NULL, key));
    row(708, p->C_Verify(session, digest_info, sizeof digest_info, signature, length));
    row(709, p->C_Verify(session + 1000, digest_info, sizeof digest_info, signature, length));
    row(710, p->C_VerifyInit(session, &rsa, key));
    row(711, p->C_Verify(session, NULL, sizeof digest_info, signature, length));
    CK_BYTE too_long[300];
    memset(too_long, 1, sizeof too_long);
    row(712, p->C_Verify(session, too_long, sizeof too_long, signature, length));
    row(713, p->C_VerifyInit(session, &rsa, key));
    row(714, p->C_Verify(session, digest_info, sizeof digest_info, signature, length - 1));
    row(715, p->C_Verify(session, digest_info, sizeof digest_info, signature, length));
    row(716, p->C_VerifyInit(session, &rsa, key));
    row(717, p->C_Verify(session, digest_info, sizeof digest_info, signature, length));
    verify_parts(session, key, part, sizeof part, parts_signature, parts_length);
    /* Rows 734-737: CKM_RSA_PKCS over a bare SHA-1 and SHA-256 digest, signed the same way. */
    for (int i = 0; i < 2; i++) {
        CK_BYTE_PTR digest_value = digest_info + sizeof prefix;
        CK_ULONG digest_length = i == 0 ? 20 : 32;
        CK_ULONG digest_signature = sign_with(session, CKM_RSA_PKCS, digest_value, digest_length, signature);
        row(734 + 2 * i, p->C_VerifyInit(session, &rsa, key));
        row(735 + 2 * i, p->C_Verify(session, digest_value, digest_length, signature, digest_signature));
    }
    close_library();
}
