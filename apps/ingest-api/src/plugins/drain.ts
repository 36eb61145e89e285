import fp from 'fastify-plugin';

/**
 * Once the app starts closing, answers still in flight carry `Connection: close`, so keep-alive
 * clients let go of their sockets and `close()` does not wait out the keep-alive timeout.
 */
export const drainPlugin = fp(
  async (app) => {
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onSend', async (_request, reply) => {
      if (closing) reply.header('connection', 'close');
    });
  },
  { name: 'sluice-drain' },
);
