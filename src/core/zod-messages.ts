import { z } from 'zod';

// Plain words for zod's range refusals, which every door (the CLI, the API, MCP) shows to
// people as `field: message`: "must be at most 2000 characters", not "Too big: expected
// string to have <=2000 characters". A schema's own message still wins; anything not
// covered here keeps zod's.
z.config({
  customError: (iss) => {
    if (iss.code !== 'too_big' && iss.code !== 'too_small') return undefined;
    const big = iss.code === 'too_big';
    const n = big ? iss.maximum : iss.minimum;
    const inclusive = iss.inclusive !== false;
    switch (iss.origin) {
      case 'string':
        if (!big && Number(n) === 1) return 'must not be empty';
        return `must be ${big ? 'at most' : 'at least'} ${n} characters`;
      case 'array':
      case 'set':
        if (!big && Number(n) === 1) return 'must not be empty';
        return `must have ${big ? 'at most' : 'at least'} ${n} items`;
      case 'number':
      case 'int':
      case 'bigint':
        if (inclusive) return `must be ${big ? 'at most' : 'at least'} ${n}`;
        return `must be ${big ? 'less' : 'more'} than ${n}`;
      default:
        return undefined;
    }
  },
});
