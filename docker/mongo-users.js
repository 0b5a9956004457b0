// Run by the mongo-init service with the root account (mongosh --file): creates, or on a
// re-run updates, the two project users of MONGO_DB, each with the least it needs:
//   MONGO_API_USER     read       (the GraphQL API only reads)
//   MONGO_EXPORT_USER  readWrite  (the export pipeline writes, renames and indexes)
// Root credentials stay in this init container; no long-running service gets them.
(function createProjectUsers(env, db) {
  const dbName = env.MONGO_DB || "medallion";
  const users = [
    { prefix: "MONGO_API", role: "read" },
    { prefix: "MONGO_EXPORT", role: "readWrite" },
  ];
  const target = db.getSiblingDB(dbName);
  for (const { prefix, role } of users) {
    const user = env[`${prefix}_USER`];
    const pwd = env[`${prefix}_PASSWORD`];
    if (!user || !pwd) {
      throw new Error(`set ${prefix}_USER and ${prefix}_PASSWORD in .env (see .env.example)`);
    }
    const roles = [{ role, db: dbName }];
    if (target.getUser(user)) {
      target.updateUser(user, { pwd, roles });
      print(`updated ${user}: ${role} on ${dbName}`);
    } else {
      target.createUser({ user, pwd, roles });
      print(`created ${user}: ${role} on ${dbName}`);
    }
  }
})(process.env, db);
