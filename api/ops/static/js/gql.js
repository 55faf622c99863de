// GraphQL over HTTP with the session's token: one retry after a refresh when the token has expired.
// Uploads follow the GraphQL multipart request spec (operations + map + files).

export class GqlError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

export function makeGql(session, languageOf) {
  /** Runs an operation; returns `data` or throws GqlError for a top-level error. */
  return async function gql(query, variables = {}, { files = null } = {}) {
    for (let attempt = 0; ; attempt += 1) {
      const headers = { 'accept-language': languageOf() };
      if (session.accessToken) headers.authorization = `Bearer ${session.accessToken}`;
      let body;
      if (files && files.length) {
        const form = new FormData();
        const vars = structuredClone(variables);
        const map = {};
        files.forEach(({ path }, i) => { map[String(i)] = [`variables.${path}`]; });
        form.append('operations', JSON.stringify({ query, variables: vars }));
        form.append('map', JSON.stringify(map));
        files.forEach(({ file }, i) => form.append(String(i), file, file.name));
        body = form;
      } else {
        headers['content-type'] = 'application/json';
        body = JSON.stringify({ query, variables });
      }
      const response = await fetch('/graphql', { method: 'POST', headers, body });
      const json = await response.json().catch(() => ({ errors: [{ message: response.statusText }] }));
      const error = json.errors?.[0];
      const code = error?.extensions?.code;
      if (code === 'UNAUTHENTICATED' && attempt === 0 && session.signedIn) {
        await session.refresh();
        continue;
      }
      if (error && !json.data) throw new GqlError(error.message, code);
      if (error) console.warn('partial GraphQL result', json.errors);
      return json.data;
    }
  };
}
