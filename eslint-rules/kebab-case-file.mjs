// File names are kebab-case ("one-job-per-file.ts"), as the house rules say.
export const kebabCaseFile = {
  meta: { type: 'suggestion', schema: [], messages: { name: 'file name "{{name}}" is not kebab-case' } },
  create(context) {
    return {
      Program(node) {
        const name = context.filename.split(/[\\/]/).pop() ?? '';
        if (!/^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+)*$/.test(name)) context.report({ node, messageId: 'name', data: { name } });
      },
    };
  },
};
