/* The differential client's operations (only those whose result is the same on every run: PKCS#1 v1.5
 * signatures, digests, a decryption of our own cryptogram) and its error cases, each printed as
 * `<section>.<case> <rv> [<result>]`. */
#include <stdio.h>
#include <string.h>
#include "p11-dump.h"

static const unsigned char message[] = "Feuille de soins electronique: acte CCAM YYYY001, 2026-12-05";
static const unsigned char sha256_digest_info_prefix[] = {
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
};

static CK_OBJECT_HANDLE find(CK_SESSION_HANDLE session, CK_OBJECT_CLASS class, const char *label) {
    CK_ATTRIBUTE template[] = {{CKA_CLASS, &class, sizeof class}, {CKA_LABEL, (void *)label, strlen(label)}};
    CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
    CK_ULONG found = 0;
    if (p->C_FindObjectsInit(session, template, 2) == CKR_OK) p->C_FindObjects(session, &object, 1, &found);
    p->C_FindObjectsFinal(session);
    return found == 1 ? object : CK_INVALID_HANDLE;
}

/* The public key with the CKA_ID of `private_key` (labels differ: Cryptolib counts a NUL in them, §5.2). */
static CK_OBJECT_HANDLE find_public(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE private_key) {
    unsigned char id[64];
    CK_ATTRIBUTE id_attribute = {CKA_ID, id, sizeof id};
    if (p->C_GetAttributeValue(session, private_key, &id_attribute, 1) != CKR_OK) return CK_INVALID_HANDLE;
    CK_OBJECT_CLASS class = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE template[] = {{CKA_CLASS, &class, sizeof class}, {CKA_ID, id, id_attribute.ulValueLen}};
    CK_OBJECT_HANDLE object = CK_INVALID_HANDLE;
    CK_ULONG found = 0;
    if (p->C_FindObjectsInit(session, template, 2) == CKR_OK) p->C_FindObjects(session, &object, 1, &found);
    p->C_FindObjectsFinal(session);
    return found == 1 ? object : CK_INVALID_HANDLE;
}

static void print_result(const char *name, CK_RV rv, const unsigned char *bytes, CK_ULONG length) {
    printf("%s %s", name, rv_name(rv));
    if (rv == CKR_OK && bytes) printf(" "), print_bytes(bytes, length);
    printf("\n");
}

void session_state(CK_SESSION_HANDLE session, const char *when) {
    CK_SESSION_INFO info;
    CK_RV rv = p->C_GetSessionInfo(session, &info);
    printf("session.%s %s", when, rv_name(rv));
    if (rv == CKR_OK)
        printf(" state=%lu flags=0x%lx device-error=%lu", (unsigned long)info.state, (unsigned long)info.flags,
               (unsigned long)info.ulDeviceError);
    printf("\n");
}

/* C_SignInit + C_Sign with a size query first; prints the size and the signature. */
static void sign(const char *name, CK_SESSION_HANDLE session, CK_MECHANISM *mechanism, CK_OBJECT_HANDLE key,
                 const unsigned char *data, CK_ULONG length, unsigned char *signature, CK_ULONG *signature_length) {
    CK_RV rv = p->C_SignInit(session, mechanism, key);
    CK_ULONG size = 0;
    if (rv == CKR_OK) rv = p->C_Sign(session, (CK_BYTE_PTR)data, length, NULL, &size);
    printf("%s.size %s %lu\n", name, rv_name(rv), (unsigned long)size);
    *signature_length = 256;
    if (rv == CKR_OK) rv = p->C_Sign(session, (CK_BYTE_PTR)data, length, signature, signature_length);
    print_result(name, rv, signature, *signature_length);
}

static void digests(CK_SESSION_HANDLE session) {
    CK_MECHANISM_TYPE types[] = {CKM_SHA_1, CKM_SHA256};
    for (int i = 0; i < 2; i++) {
        CK_MECHANISM mechanism = {types[i], NULL, 0};
        unsigned char digest[64];
        CK_ULONG length = sizeof digest;
        CK_RV rv = p->C_DigestInit(session, &mechanism);
        if (rv == CKR_OK) rv = p->C_Digest(session, (CK_BYTE_PTR)message, sizeof message - 1, digest, &length);
        char name[64];
        snprintf(name, sizeof name, "operations.digest.%s", mechanism_name(types[i]));
        print_result(name, rv, digest, length);
    }
}

static void signatures(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE signing, CK_OBJECT_HANDLE authentication) {
    unsigned char signature[256], again[256];
    CK_ULONG length, again_length = sizeof again;
    CK_MECHANISM sha256 = {CKM_SHA256_RSA_PKCS, NULL, 0}, pkcs = {CKM_RSA_PKCS, NULL, 0};
    sign("operations.sign.SHA256_RSA_PKCS.signature-key", session, &sha256, signing, message, sizeof message - 1,
         signature, &length);
    /* The same signature in three parts. */
    CK_RV rv = p->C_SignInit(session, &sha256, signing);
    for (size_t offset = 0; rv == CKR_OK && offset < sizeof message - 1; offset += 20) {
        size_t part = sizeof message - 1 - offset < 20 ? sizeof message - 1 - offset : 20;
        rv = p->C_SignUpdate(session, (CK_BYTE_PTR)message + offset, part);
    }
    if (rv == CKR_OK) rv = p->C_SignFinal(session, again, &again_length);
    printf("operations.sign.multi-part %s %s\n", rv_name(rv),
           rv == CKR_OK && again_length == length && !memcmp(again, signature, length) ? "same" : "different");
    /* Verified in software with the signature certificate's public key. */
    CK_OBJECT_HANDLE public = find_public(session, signing);
    rv = p->C_VerifyInit(session, &sha256, public);
    if (rv == CKR_OK) rv = p->C_Verify(session, (CK_BYTE_PTR)message, sizeof message - 1, signature, length);
    printf("operations.verify.SHA256_RSA_PKCS %s\n", rv_name(rv));
    /* A DigestInfo signed by the authentication key, as TLS client authentication does. */
    unsigned char digest_info[sizeof sha256_digest_info_prefix + 32];
    memcpy(digest_info, sha256_digest_info_prefix, sizeof sha256_digest_info_prefix);
    memset(digest_info + sizeof sha256_digest_info_prefix, 0x5a, 32);
    sign("operations.sign.RSA_PKCS.authentication-key", session, &pkcs, authentication, digest_info,
         sizeof digest_info, signature, &length);
    sign("operations.sign.SHA256_RSA_PKCS.authentication-key", session, &sha256, authentication, message,
         sizeof message - 1, signature, &length);
    CK_RSA_PKCS_PSS_PARAMS parameters = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM pss = {CKM_SHA256_RSA_PKCS_PSS, &parameters, sizeof parameters};
    rv = p->C_SignInit(session, &pss, signing);
    length = sizeof signature;
    if (rv == CKR_OK) rv = p->C_Sign(session, (CK_BYTE_PTR)message, sizeof message - 1, signature, &length);
    printf("operations.sign.SHA256_RSA_PKCS_PSS %s %lu\n", rv_name(rv), (unsigned long)(rv == CKR_OK ? length : 0));
}

/* C_Encrypt with the authentication public key (random padding: only the length is printed), then C_Decrypt
 * of that cryptogram on the card: the plaintext must come back. */
static void encryption(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE authentication) {
    CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};
    CK_OBJECT_HANDLE public = find_public(session, authentication);
    unsigned char cryptogram[256], plaintext[256];
    CK_ULONG length = sizeof cryptogram, plain_length = sizeof plaintext;
    CK_RV rv = p->C_EncryptInit(session, &pkcs, public);
    if (rv == CKR_OK) rv = p->C_Encrypt(session, (CK_BYTE_PTR)"secret de session", 17, cryptogram, &length);
    printf("operations.encrypt %s %lu\n", rv_name(rv), (unsigned long)(rv == CKR_OK ? length : 0));
    rv = p->C_DecryptInit(session, &pkcs, authentication);
    if (rv == CKR_OK) rv = p->C_Decrypt(session, cryptogram, length, plaintext, &plain_length);
    print_result("operations.decrypt", rv, plaintext, plain_length);
    unsigned char random[16];
    printf("operations.random %s\n", rv_name(p->C_GenerateRandom(session, random, sizeof random)));
}

/* CPS_DATA written then read back: the value as the module stores it (Cryptolib's padding rules). */
static void data_write(CK_SESSION_HANDLE session) {
    CK_OBJECT_HANDLE data = find(session, CKO_DATA, "CPS_DATA");
    CK_ATTRIBUTE write = {CKA_VALUE, (void *)"cpsd", 4};
    printf("operations.cps-data.write %s\n", rv_name(p->C_SetAttributeValue(session, data, &write, 1)));
    unsigned char value[512];
    CK_ATTRIBUTE read = {CKA_VALUE, value, sizeof value};
    CK_RV rv = p->C_GetAttributeValue(session, data, &read, 1);
    print_result("operations.cps-data.read", rv, value, read.ulValueLen);
}

void operations(CK_SESSION_HANDLE session) {
    CK_OBJECT_HANDLE signing = find(session, CKO_PRIVATE_KEY, "CPS_PRIV_SIG");
    CK_OBJECT_HANDLE authentication = find(session, CKO_PRIVATE_KEY, "CPS_PRIV_AUT");
    printf("operations.keys %s %s %s %s\n", signing ? "signature" : "-", authentication ? "authentication" : "-",
           find_public(session, signing) ? "signature-public" : "-",
           find_public(session, authentication) ? "authentication-public" : "-");
    digests(session);
    signatures(session, signing, authentication);
    encryption(session, authentication);
    data_write(session);
}

#define CASE(name, call) printf("errors.%s %s\n", name, rv_name(call))

void error_cases(CK_SESSION_HANDLE session, const char *pin) {
    CK_SLOT_INFO slot_info;
    CK_TOKEN_INFO token_info;
    CK_MECHANISM_INFO mechanism_info;
    CK_SESSION_HANDLE other;
    CK_MECHANISM md5 = {CKM_MD5, NULL, 0}, md5_rsa = {CKM_MD5_RSA_PKCS, NULL, 0}, pkcs = {CKM_RSA_PKCS, NULL, 0};
    CK_MECHANISM x509 = {CKM_RSA_X_509, NULL, 0};
    unsigned char buffer[256];
    CK_ULONG length = sizeof buffer;
    CK_OBJECT_HANDLE signing = find(session, CKO_PRIVATE_KEY, "CPS_PRIV_SIG");
    CK_OBJECT_HANDLE certificate = find(session, CKO_CERTIFICATE, "Certificat de Signature CPS");
    CK_OBJECT_HANDLE signing_public = find_public(session, signing);
    CASE("slot-info.invalid-slot", p->C_GetSlotInfo(4242, &slot_info));
    CASE("token-info.invalid-slot", p->C_GetTokenInfo(4242, &token_info));
    CASE("mechanism-info.md5", p->C_GetMechanismInfo(slot, CKM_MD5, &mechanism_info));
    CASE("open-session.not-serial", p->C_OpenSession(slot, 0, NULL, NULL, &other));
    CASE("session-info.invalid-handle", p->C_GetSessionInfo(0xdead, NULL));
    CASE("close-session.invalid-handle", p->C_CloseSession(0xdead));
    CASE("login.already", p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    CASE("login.user-type", p->C_Login(session, 7, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    CASE("find.init-twice", (p->C_FindObjectsInit(session, NULL, 0), p->C_FindObjectsInit(session, NULL, 0)));
    p->C_FindObjectsFinal(session);
    CASE("find.not-initialized", p->C_FindObjects(session, &other, 1, &length));
    CASE("attribute.invalid-object", p->C_GetAttributeValue(session, 0xdead, &(CK_ATTRIBUTE){CKA_LABEL, NULL, 0}, 1));
    CASE("attribute.private-exponent",
         p->C_GetAttributeValue(session, signing, &(CK_ATTRIBUTE){CKA_PRIVATE_EXPONENT, NULL, 0}, 1));
    CASE("attribute.set-certificate-label",
         p->C_SetAttributeValue(session, certificate, &(CK_ATTRIBUTE){CKA_LABEL, "x", 1}, 1));
    CASE("sign-init.md5-rsa", p->C_SignInit(session, &md5_rsa, signing));
    CASE("sign-init.invalid-key", p->C_SignInit(session, &pkcs, 0xdead));
    CASE("sign-init.certificate", p->C_SignInit(session, &pkcs, certificate));
    CASE("sign.not-initialized", p->C_Sign(session, buffer, 32, buffer, &length));
    CASE("sign-init.twice", (p->C_SignInit(session, &pkcs, signing), p->C_SignInit(session, &pkcs, signing)));
    length = 10;
    CASE("sign.buffer-too-small", p->C_Sign(session, buffer, 32, buffer, &length));
    length = sizeof buffer;
    CASE("sign.not-a-digest", p->C_Sign(session, buffer, 33, buffer, &length));
    /* Last of the signing cases: Cryptolib accepts this init (and fails at C_Sign), so the C_Sign after it,
     * not printed, ends whatever operation it left. */
    CASE("sign-init.x509-on-signature-key", p->C_SignInit(session, &x509, signing));
    length = sizeof buffer;
    p->C_Sign(session, buffer, 32, buffer, &length);
    CASE("decrypt-init.signature-key", p->C_DecryptInit(session, &pkcs, signing));
    CASE("encrypt-init.signature-public-key", p->C_EncryptInit(session, &pkcs, signing_public));
    CASE("encrypt-init.private-key", p->C_EncryptInit(session, &pkcs, signing));
    CASE("verify.short-signature",
         (p->C_VerifyInit(session, &pkcs, signing_public), p->C_Verify(session, buffer, 32, buffer, 100)));
    memset(buffer, 0x11, sizeof buffer);
    CASE("verify.wrong-signature",
         (p->C_VerifyInit(session, &pkcs, signing_public), p->C_Verify(session, buffer, 32, buffer, 256)));
    CASE("digest-init.md5", p->C_DigestInit(session, &md5));
    CASE("create-object", p->C_CreateObject(session, NULL, 0, &other));
    CASE("generate-key-pair", p->C_GenerateKeyPair(session, &pkcs, NULL, 0, NULL, 0, &other, &other));
    CASE("seed-random", p->C_SeedRandom(session, buffer, 8));
    CASE("wait-for-slot-event.blocking", p->C_WaitForSlotEvent(0, &other, NULL));
    CASE("logout", p->C_Logout(session));
    CASE("logout.again", p->C_Logout(session));
    token("logged-out");
    /* Read-only session: no write, and no SO login beside it. */
    CK_SESSION_HANDLE read_only;
    CASE("open-session.read-only", p->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &read_only));
    CK_OBJECT_HANDLE data = find(read_only, CKO_DATA, "CPS_DATA");
    CASE("cps-data.write-read-only", p->C_SetAttributeValue(read_only, data, &(CK_ATTRIBUTE){CKA_VALUE, "x", 1}, 1));
    CASE("login.so-beside-read-only", p->C_Login(session, CKU_SO, (CK_UTF8CHAR_PTR)"12345678", 8));
    CASE("login.short-pin", p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)"12", 2));
    token("after-short-pin");
    /* One wrong PIN (a virtual card): the counter must show in the token flags, and the right PIN restores it. */
    CASE("login.wrong-pin", p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)"0000", 4));
    token("after-wrong-pin");
    CASE("login.right-pin", p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    token("after-right-pin");
    CASE("close-all-sessions", p->C_CloseAllSessions(slot));
    CASE("session-info.after-close-all", p->C_GetSessionInfo(session, &(CK_SESSION_INFO){0}));
}
