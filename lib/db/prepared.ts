/**
 * A drizzle statement prepared once per database handle, for the lookups every request makes
 * (bearer tokens, workspace access): building a query through drizzle's builder costs a few
 * hundred µs, several times the indexed lookup itself (npm run bench:api). The statement takes
 * its values through `sql.placeholder`; a new handle (another store, a re-opened file) gets its own.
 */
export function preparedPerHandle<Handle extends object, Statement>(prepare: (handle: Handle) => Statement): (handle: Handle) => Statement {
  const statements = new WeakMap<Handle, Statement>();
  return (handle) => {
    let statement = statements.get(handle);
    if (!statement) {
      statement = prepare(handle);
      statements.set(handle, statement);
    }
    return statement;
  };
}
