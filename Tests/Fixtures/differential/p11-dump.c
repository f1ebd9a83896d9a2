/* The differential client: everything a PKCS#11 module shows of one CPS card, printed as `key value` lines
 * that two modules can be compared by (DifferentialCryptolibTests runs it on Cryptolib 5.2.2 and on cpsd).
 * Nothing that differs by nature is printed: no object handles, no session handles, no random bytes; objects
 * are listed in a stable order (class, label, CKA_ID); long values are printed as length + SHA-256.
 *
 * Usage: p11-dump MODULE PIN
 * Sections: library, slots, token, mechanisms, objects before login, login, objects after login, operations
 * with deterministic results, and error cases (p11-dump-cases.c). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "p11-dump.h"

CK_FUNCTION_LIST_PTR p;
CK_SLOT_ID slot;

/* The attributes asked of every object: PKCS#11 2.40's common, certificate, key and data attributes. */
static const struct { CK_ATTRIBUTE_TYPE type; const char *name; } attributes[] = {
    {CKA_CLASS, "CLASS"}, {CKA_TOKEN, "TOKEN"}, {CKA_PRIVATE, "PRIVATE"}, {CKA_LABEL, "LABEL"},
    {CKA_APPLICATION, "APPLICATION"}, {CKA_VALUE, "VALUE"}, {CKA_OBJECT_ID, "OBJECT_ID"},
    {CKA_CERTIFICATE_TYPE, "CERTIFICATE_TYPE"}, {CKA_ISSUER, "ISSUER"}, {CKA_SERIAL_NUMBER, "SERIAL_NUMBER"},
    {CKA_AC_ISSUER, "AC_ISSUER"}, {CKA_OWNER, "OWNER"}, {CKA_ATTR_TYPES, "ATTR_TYPES"}, {CKA_TRUSTED, "TRUSTED"},
    {CKA_CERTIFICATE_CATEGORY, "CERTIFICATE_CATEGORY"}, {CKA_JAVA_MIDP_SECURITY_DOMAIN, "JAVA_MIDP_SECURITY_DOMAIN"},
    {CKA_URL, "URL"}, {CKA_HASH_OF_SUBJECT_PUBLIC_KEY, "HASH_OF_SUBJECT_PUBLIC_KEY"},
    {CKA_HASH_OF_ISSUER_PUBLIC_KEY, "HASH_OF_ISSUER_PUBLIC_KEY"}, {CKA_CHECK_VALUE, "CHECK_VALUE"},
    {CKA_KEY_TYPE, "KEY_TYPE"}, {CKA_SUBJECT, "SUBJECT"}, {CKA_ID, "ID"}, {CKA_SENSITIVE, "SENSITIVE"},
    {CKA_ENCRYPT, "ENCRYPT"}, {CKA_DECRYPT, "DECRYPT"}, {CKA_WRAP, "WRAP"}, {CKA_UNWRAP, "UNWRAP"},
    {CKA_SIGN, "SIGN"}, {CKA_SIGN_RECOVER, "SIGN_RECOVER"}, {CKA_VERIFY, "VERIFY"},
    {CKA_VERIFY_RECOVER, "VERIFY_RECOVER"}, {CKA_DERIVE, "DERIVE"}, {CKA_START_DATE, "START_DATE"},
    {CKA_END_DATE, "END_DATE"}, {CKA_MODULUS, "MODULUS"}, {CKA_MODULUS_BITS, "MODULUS_BITS"},
    {CKA_PUBLIC_EXPONENT, "PUBLIC_EXPONENT"}, {CKA_PRIVATE_EXPONENT, "PRIVATE_EXPONENT"},
    {CKA_PRIME_1, "PRIME_1"}, {CKA_PRIME_2, "PRIME_2"}, {CKA_EXPONENT_1, "EXPONENT_1"},
    {CKA_EXPONENT_2, "EXPONENT_2"}, {CKA_COEFFICIENT, "COEFFICIENT"}, {CKA_PUBLIC_KEY_INFO, "PUBLIC_KEY_INFO"},
    {CKA_VALUE_BITS, "VALUE_BITS"}, {CKA_VALUE_LEN, "VALUE_LEN"}, {CKA_EXTRACTABLE, "EXTRACTABLE"},
    {CKA_LOCAL, "LOCAL"}, {CKA_NEVER_EXTRACTABLE, "NEVER_EXTRACTABLE"}, {CKA_ALWAYS_SENSITIVE, "ALWAYS_SENSITIVE"},
    {CKA_KEY_GEN_MECHANISM, "KEY_GEN_MECHANISM"}, {CKA_MODIFIABLE, "MODIFIABLE"}, {CKA_COPYABLE, "COPYABLE"},
    {CKA_DESTROYABLE, "DESTROYABLE"}, {CKA_ALWAYS_AUTHENTICATE, "ALWAYS_AUTHENTICATE"},
    {CKA_WRAP_WITH_TRUSTED, "WRAP_WITH_TRUSTED"}, {CKA_ALLOWED_MECHANISMS, "ALLOWED_MECHANISMS"},
};
#define ATTRIBUTE_COUNT (sizeof attributes / sizeof attributes[0])

/* Bytes as hex up to 64, else `<length> bytes sha256:<digest>`: certificates compare without filling pages. */
void print_bytes(const unsigned char *bytes, CK_ULONG length) {
    if (length <= 64) {
        for (CK_ULONG i = 0; i < length; i++) printf("%02x", bytes[i]);
        if (length == 0) printf("(empty)");
        return;
    }
    printf("%lu bytes sha256:", (unsigned long)length);
    print_sha256(bytes, length);
}

/* A fixed-width text field as the module wrote it, padding included, between quotes (NULs shown as \0). */
static void print_text(const char *key, const unsigned char *text, size_t length) {
    printf("%s \"", key);
    for (size_t i = 0; i < length; i++) {
        if (text[i] == 0) printf("\\0");
        else putchar(text[i]);
    }
    printf("\"\n");
}

static void library(void) {
    CK_INFO info;
    CK_RV rv = p->C_GetInfo(&info);
    printf("library.get-info %s\n", rv_name(rv));
    if (rv != CKR_OK) return;
    printf("library.cryptoki-version %u.%u\n", info.cryptokiVersion.major, info.cryptokiVersion.minor);
    print_text("library.manufacturer", info.manufacturerID, sizeof info.manufacturerID);
    printf("library.flags 0x%lx\n", (unsigned long)info.flags);
    print_text("library.description", info.libraryDescription, sizeof info.libraryDescription);
    printf("library.version %u.%u\n", info.libraryVersion.major, info.libraryVersion.minor);
    printf("library.function-list-version %u.%u\n", p->version.major, p->version.minor);
}

static int slots(void) {
    CK_SLOT_ID list[16];
    CK_ULONG all = 16, present = 16;
    printf("slots.all %s", rv_name(p->C_GetSlotList(CK_FALSE, list, &all)));
    printf(" %lu\n", (unsigned long)all);
    CK_RV rv = p->C_GetSlotList(CK_TRUE, list, &present);
    printf("slots.with-token %s %lu\n", rv_name(rv), (unsigned long)present);
    if (rv != CKR_OK || present < 1) return 0;
    slot = list[0];
    CK_SLOT_INFO info;
    rv = p->C_GetSlotInfo(slot, &info);
    printf("slot.get-info %s\n", rv_name(rv));
    if (rv != CKR_OK) return 1;
    print_text("slot.description", info.slotDescription, sizeof info.slotDescription);
    print_text("slot.manufacturer", info.manufacturerID, sizeof info.manufacturerID);
    printf("slot.flags %s\n", slot_flags(info.flags));
    printf("slot.hardware-version %u.%u\n", info.hardwareVersion.major, info.hardwareVersion.minor);
    printf("slot.firmware-version %u.%u\n", info.firmwareVersion.major, info.firmwareVersion.minor);
    return 1;
}

void token(const char *when) {
    CK_TOKEN_INFO info;
    CK_RV rv = p->C_GetTokenInfo(slot, &info);
    printf("token.%s.get-info %s\n", when, rv_name(rv));
    if (rv != CKR_OK) return;
    char key[64];
#define TEXT(field, name) snprintf(key, sizeof key, "token.%s.%s", when, name), print_text(key, info.field, sizeof info.field)
#define NUMBER(field, name) printf("token.%s.%s %ld\n", when, name, (long)info.field)
    TEXT(label, "label");
    TEXT(manufacturerID, "manufacturer");
    TEXT(model, "model");
    TEXT(serialNumber, "serial-number");
    printf("token.%s.flags %s\n", when, token_flags(info.flags));
    NUMBER(ulMaxSessionCount, "max-sessions");
    NUMBER(ulMaxRwSessionCount, "max-rw-sessions");
    NUMBER(ulMaxPinLen, "max-pin-length");
    NUMBER(ulMinPinLen, "min-pin-length");
    NUMBER(ulTotalPublicMemory, "total-public-memory");
    NUMBER(ulFreePublicMemory, "free-public-memory");
    NUMBER(ulTotalPrivateMemory, "total-private-memory");
    NUMBER(ulFreePrivateMemory, "free-private-memory");
    printf("token.%s.hardware-version %u.%u\n", when, info.hardwareVersion.major, info.hardwareVersion.minor);
    printf("token.%s.firmware-version %u.%u\n", when, info.firmwareVersion.major, info.firmwareVersion.minor);
    TEXT(utcTime, "utc-time");
#undef TEXT
#undef NUMBER
}

static void mechanisms(void) {
    CK_MECHANISM_TYPE list[64];
    CK_ULONG count = 64;
    CK_RV rv = p->C_GetMechanismList(slot, list, &count);
    printf("mechanisms.list %s %lu\n", rv_name(rv), (unsigned long)count);
    for (CK_ULONG i = 0; rv == CKR_OK && i < count; i++) {
        CK_MECHANISM_INFO info;
        CK_RV info_rv = p->C_GetMechanismInfo(slot, list[i], &info);
        printf("mechanisms.%lu %s %s", (unsigned long)i, mechanism_name(list[i]), rv_name(info_rv));
        if (info_rv == CKR_OK)
            printf(" %lu-%lu %s", (unsigned long)info.ulMinKeySize, (unsigned long)info.ulMaxKeySize,
                   mechanism_flags(info.flags));
        printf("\n");
    }
}

/* One attribute: the size query's answer, then the value read with a buffer of that size. */
static void attribute(const char *prefix, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, size_t index) {
    CK_ATTRIBUTE query = {attributes[index].type, NULL, 0};
    CK_RV rv = p->C_GetAttributeValue(session, object, &query, 1);
    printf("%s.%s %s", prefix, attributes[index].name, rv_name(rv));
    if (rv == CKR_OK && query.ulValueLen == CK_UNAVAILABLE_INFORMATION) printf(" unavailable");
    if (rv == CKR_OK && query.ulValueLen != CK_UNAVAILABLE_INFORMATION) {
        unsigned char *value = malloc(query.ulValueLen + 1);
        CK_ATTRIBUTE read = {attributes[index].type, value, query.ulValueLen};
        CK_RV read_rv = p->C_GetAttributeValue(session, object, &read, 1);
        printf(" %lu ", (unsigned long)query.ulValueLen);
        if (read_rv == CKR_OK) print_bytes(value, read.ulValueLen);
        else printf("read:%s", rv_name(read_rv));
        free(value);
    }
    printf("\n");
}

/* The identity of an object in the listing: class, label and CKA_ID as text, so two modules sort alike. */
static void object_key(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, char *key, size_t size) {
    CK_OBJECT_CLASS class = (CK_OBJECT_CLASS)-1;
    unsigned char label[128] = {0}, id[64] = {0};
    CK_ATTRIBUTE template[] = {{CKA_CLASS, &class, sizeof class}, {CKA_LABEL, label, sizeof label - 1}};
    p->C_GetAttributeValue(session, object, template, 2);
    CK_ULONG label_length = template[1].ulValueLen == CK_UNAVAILABLE_INFORMATION ? 0 : template[1].ulValueLen;
    while (label_length > 0 && label[label_length - 1] == 0) label_length--; /* Cryptolib counts a NUL: §5.2 */
    label[label_length] = 0;
    /* One word per key: the comparison splits a line at its first space. */
    for (CK_ULONG i = 0; i < label_length; i++)
        if (label[i] == ' ') label[i] = '_';
    CK_ATTRIBUTE id_attribute = {CKA_ID, id, sizeof id};
    char id_hex[2 * sizeof id + 1] = "-";
    if (p->C_GetAttributeValue(session, object, &id_attribute, 1) == CKR_OK)
        for (CK_ULONG i = 0; i < id_attribute.ulValueLen && i < sizeof id; i++) sprintf(id_hex + 2 * i, "%02x", id[i]);
    snprintf(key, size, "%s[%s|%s]", class_name(class), (char *)label, id_hex);
}

static int compare_keys(const void *a, const void *b) {
    return strcmp(((const struct listed *)a)->key, ((const struct listed *)b)->key);
}

/* Every object C_FindObjects gives with an empty template, each with every attribute, in key order. */
void objects(CK_SESSION_HANDLE session, const char *when) {
    struct listed listed[64];
    CK_ULONG count = 0;
    CK_RV rv = p->C_FindObjectsInit(session, NULL, 0);
    CK_OBJECT_HANDLE handles[64];
    if (rv == CKR_OK) rv = p->C_FindObjects(session, handles, 64, &count);
    p->C_FindObjectsFinal(session);
    printf("objects.%s.find %s %lu\n", when, rv_name(rv), (unsigned long)count);
    for (CK_ULONG i = 0; i < count; i++) {
        listed[i].handle = handles[i];
        object_key(session, handles[i], listed[i].key, sizeof listed[i].key);
    }
    qsort(listed, count, sizeof listed[0], compare_keys);
    for (CK_ULONG i = 0; i < count; i++) {
        char prefix[300];
        snprintf(prefix, sizeof prefix, "objects.%s.%s", when, listed[i].key);
        for (size_t a = 0; a < ATTRIBUTE_COUNT; a++) attribute(prefix, session, listed[i].handle, a);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: p11-dump MODULE PIN\n"); return 2; }
    void *module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CK_C_GetFunctionList get = module ? (CK_C_GetFunctionList)dlsym(module, "C_GetFunctionList") : NULL;
    if (get == NULL || get(&p) != CKR_OK) { fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror()); return 2; }
    printf("initialize %s\n", rv_name(p->C_Initialize(NULL)));
    library();
    if (!slots()) { printf("no token\n"); return 1; }
    token("fresh");
    mechanisms();
    CK_SESSION_HANDLE session;
    CK_RV rv = p->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
    printf("session.open %s\n", rv_name(rv));
    if (rv != CKR_OK) return 1;
    objects(session, "public");
    rv = p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)argv[2], strlen(argv[2]));
    printf("login %s\n", rv_name(rv));
    session_state(session, "logged-in");
    token("logged-in");
    objects(session, "private");
    operations(session);
    error_cases(session, argv[2]);
    printf("finalize %s\n", rv_name(p->C_Finalize(NULL)));
    return 0;
}
