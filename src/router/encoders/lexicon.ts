import cssColours from 'color-name';

/**
 * Word lists for the lexical encoder's flags. They name what text-to-image models are known to handle
 * differently (counting, spatial relations, rendered text, hands and faces, styles); the predictor learns
 * from data how much each matters for a given pair of models.
 */

const words = (s: string) => new Set(s.split(/\s+/).filter(Boolean));

export const COLOUR = new Set([
  ...Object.keys(cssColours),
  ...words(`red orange yellow green blue purple violet pink brown black white grey gray gold golden silver bronze
  beige teal turquoise cyan magenta crimson scarlet maroon navy indigo lavender lilac amber emerald ruby sapphire
  jade ivory ebony pastel neon monochrome colorful colourful multicolored rainbow blonde brunette copper rusty
  sepia vermilion ochre azure cobalt`),
]);

export const SPATIAL =
  words(`left right above below under underneath beneath behind front beside next between top bottom
  inside outside near far over across around atop upon within on onto into through along against opposite
  foreground background center centre middle corner side adjacent surrounding stacked`);

export const STYLE =
  words(`style photo photograph photography painting painted oil watercolor watercolour acrylic sketch
  drawing drawn pencil charcoal ink anime manga cartoon comic render rendering 3d cgi digital art artwork illustration
  baroque renaissance impressionist impressionism expressionism surreal surrealism surrealist cubism cubist
  abstract minimalist minimalism cyberpunk steampunk vaporwave synthwave fantasy pixel vector lowpoly low-poly
  isometric poster concept ukiyo-e pop graffiti mosaic stained origami claymation plasticine vintage retro
  photorealistic photorealism realistic hyperrealistic hyper-realistic ultra-realistic unreal octane blender
  studio ghibli pixar disney gothic noir cinematic`);

export const QUALITY =
  words(`detailed detail details hyper ultra intricate 4k 8k 16k hd uhd hdr masterpiece quality best
  sharp focus high-resolution resolution highres hi-res award-winning award trending artstation beautiful stunning
  gorgeous professional elegant perfect epic`);

export const LIGHTING =
  words(`light lighting lit sunlight sunset sunrise dusk dawn twilight night dark glow glowing neon
  shadow shadows backlit backlight rim volumetric golden-hour moonlight candlelight bright dim foggy fog mist misty
  haze hazy warm cold soft hard dramatic ambient`);

export const CAMERA = words(`close-up closeup shot angle view wide wide-angle macro lens bokeh depth field portrait
  landscape panorama panoramic aerial overhead top-down fisheye telephoto 35mm 50mm 85mm f/1.8 f/2.8 dslr camera
  photographed zoom cropped full-body headshot selfie`);

export const PERSON = words(`man men woman women girl girls boy boys person people child children kid kids baby lady
  gentleman king queen prince princess warrior knight soldier wizard witch astronaut doctor chef crowd family
  couple friends human humans character characters elf elven goddess god portrait self`);

export const BODY = words(`face faces hand hands finger fingers eye eyes mouth lips teeth hair arm arms leg legs foot
  feet body head smile smiling nose ear ears skin tattoo`);

export const ANIMAL = words(`cat cats dog dogs horse horses bird birds fish lion tiger bear wolf fox rabbit bunny
  owl eagle dragon dinosaur elephant giraffe cheetah monkey panda penguin cow sheep pig mouse snake frog turtle
  shark whale dolphin butterfly bee spider deer duck chicken kitten puppy animal animals creature creatures`);

export const TEXT = words(`text sign signs letter letters word words says say saying written writing reads read
  logo font typography title caption label labeled labelled inscription headline banner poster quote alphabet`);

export const NUMBER_WORDS = words(`one two three four five six seven eight nine ten eleven twelve dozen dozens
  hundred hundreds thousand single pair couple triple twin twins several many few multiple first second third`);

export const MATERIAL = words(`wood wooden metal metallic glass crystal chrome steel iron stone marble brick concrete
  plastic paper cardboard fabric cloth silk leather fur wool clay ceramic porcelain gold silver copper ice water fire
  smoke liquid plasticine lego`);

/** Values of number words, for the size of an asked-for count. */
export const NUMBER_VALUES = new Map<string, number>([
  ['zero', 0],
  ['one', 1],
  ['single', 1],
  ['two', 2],
  ['pair', 2],
  ['couple', 2],
  ['twin', 2],
  ['twins', 2],
  ['three', 3],
  ['triple', 3],
  ['four', 4],
  ['five', 5],
  ['six', 6],
  ['seven', 7],
  ['eight', 8],
  ['nine', 9],
  ['ten', 10],
  ['eleven', 11],
  ['twelve', 12],
  ['dozen', 12],
  ['thirteen', 13],
  ['fourteen', 14],
  ['fifteen', 15],
  ['sixteen', 16],
  ['seventeen', 17],
  ['eighteen', 18],
  ['nineteen', 19],
  ['twenty', 20],
  ['thirty', 30],
  ['forty', 40],
  ['fifty', 50],
  ['hundred', 100],
  ['dozens', 36],
  ['hundreds', 300],
  ['thousand', 1000],
  ['thousands', 3000],
]);
